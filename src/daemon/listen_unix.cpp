#include "daemon/listen_unix.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sbx::daemon {

Result<UniqueFd> listen_unix(const std::string& socket_path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd)
    return make_error(Errc::failed, std::string("cannot create a socket: ") + std::strerror(errno));
  // Bound and listening under a temporary name, then renamed into place: a client that sees
  // the socket's path can connect (between bind and listen it would be refused, and would
  // try to start a daemon of its own).
  std::string bound = socket_path + ".new";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (bound.size() >= sizeof addr.sun_path) bound = socket_path;
  if (bound.size() >= sizeof addr.sun_path) {
    return make_error(Errc::failed, "socket path " + socket_path + " is too long");
  }
  std::memcpy(addr.sun_path, bound.c_str(), bound.size() + 1);
  ::unlink(bound.c_str());
  mode_t old = ::umask(077);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old);
  if (rc != 0) {
    return make_error(Errc::failed, "cannot bind " + bound + ": " + std::strerror(bind_errno));
  }
  if (::listen(fd.get(), 512) != 0) {
    int listen_errno = errno;
    ::unlink(bound.c_str());
    return make_error(Errc::failed,
                      "cannot listen on " + socket_path + ": " + std::strerror(listen_errno));
  }
  if (bound != socket_path && ::rename(bound.c_str(), socket_path.c_str()) != 0) {
    int rename_errno = errno;
    ::unlink(bound.c_str());
    return make_error(Errc::failed,
                      "cannot create " + socket_path + ": " + std::strerror(rename_errno));
  }
  return fd;
}

}  // namespace sbx::daemon
