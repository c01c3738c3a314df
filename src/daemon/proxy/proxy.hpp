#pragma once
// The preview proxy of `sbx expose`: an HTTP/1.1 reverse proxy on 127.0.0.1 and ::1 that
// routes each request by its Host header (NAME.localhost) to an exposed process's port.
// It listens only while something is exposed; an exposure ends when its process ends.
// Runs on the daemon's one loop; Asio and Beast stay in the .cpp files of this folder.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/proxy/routes.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class Supervisor;

class Proxy {
 public:
  /// `port`: where to listen (0: a free port, kept once found).
  Proxy(boost::asio::io_context& io, Supervisor& supervisor, int port);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  /// Exposes a live process's port (listening first if nothing was exposed); a refused
  /// port is a usage error, an unknown id not_found, an ended process failed.
  Result<Exposure> expose(const std::string& id, int port, const std::optional<std::string>& name);
  /// Ends the exposures of `id` (only of `port`, when given): those it ended.
  std::vector<Exposure> unexpose(const std::string& id, std::optional<int> port);
  const std::vector<Exposure>& exposures() const;
  /// The port it listens on; when not listening, the one it would use (0: not known yet).
  int port() const;
  bool listening() const;
  /// Stops listening (the daemon exits); the exposures stay listed.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
