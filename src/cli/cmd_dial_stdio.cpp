// dial-stdio: this machine's daemon on stdin/stdout, for a client on another host that
// reaches it over ssh (`ssh HOST sbx dial-stdio`). Bytes only: the protocol is the
// client's and the daemon's.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "common/paths.hpp"

namespace sbx::cli {
namespace {

struct DialArgs {
  std::string home;
  bool no_start = false;
};

/// Writes all of `data` to `fd` (a socket: no SIGPIPE); false once the other side is gone.
bool put(int fd, const char* data, std::size_t n, bool socket) {
  while (n > 0) {
    ssize_t w = socket ? ::send(fd, data, n, MSG_NOSIGNAL) : ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

Result<int> run_dial_stdio(const DialArgs& a) {
  auto paths = resolve_paths(a.home.empty() ? std::nullopt : std::optional<std::string>(a.home));
  if (!paths) return paths.error();
  auto sock = Client::connect_socket(*paths, !a.no_start, kDaemonPatienceMs);
  if (!sock) return sock.error();
  ::signal(SIGPIPE, SIG_IGN);  // a write to a closed stdout ends the relay, not sbx by a signal
  static char buf[1 << 16];
  pollfd p[2] = {{0, POLLIN, 0}, {sock->get(), POLLIN, 0}};
  // Ends when either side closes: stdin (the client went) or the daemon's socket.
  for (;;) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::failed, std::string("dial-stdio: poll: ") + std::strerror(errno));
    }
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return kExitOk;
      bool sent = i == 0 ? put(sock->get(), buf, static_cast<std::size_t>(n), true)
                         : put(1, buf, static_cast<std::size_t>(n), false);
      if (!sent) return kExitOk;
    }
  }
}

}  // namespace

void define_dial_stdio(CommandDef& parent) {
  auto a = std::make_shared<DialArgs>();
  auto cmd = parent.add(
      "dial-stdio", "Relay stdin/stdout to this machine's daemon (what sbx --host runs over ssh)",
      "sbx dial-stdio [OPTIONS]", "ssh build-box sbx dial-stdio --home /srv/sbx");
  cmd.runs([a] { return run_dial_stdio(*a); });
  cmd.option("--home", a->home, "the daemon of this SBX_HOME (default: $SBX_HOME, else the user's)")
      .type_name("DIR");
  cmd.flag("--no-start", a->no_start, "fail when no daemon runs, instead of starting one");
}

}  // namespace sbx::cli
