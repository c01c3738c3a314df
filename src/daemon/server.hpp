#pragma once
// The listening socket and client connections: frames in, dispatch through the op
// table, frames out with back-pressure. Only the socket owner's uid is served.

#include <memory>
#include <string>

#include "common/result.hpp"
#include "daemon/context.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class Server {
 public:
  Server(boost::asio::io_context& io, Context& ctx);
  ~Server();
  /// Binds and listens on `socket_path` (mode 0600 through the umask), replacing a
  /// stale socket file; the caller holds the daemon lock, so no live daemon owns it.
  Status listen(const std::string& socket_path);
  /// Serves a socket that is already bound and listening (socket activation: systemd
  /// passes it as fd 3). Its file is not ours to remove.
  Status adopt(int fd);
  /// Stops accepting and removes the socket file; open connections finish normally.
  void close();
  std::size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
