#pragma once
// One readiness probe of a TCP port: connect, and for HTTP send `GET PATH` and read the
// status line. Every step is bounded by a deadline, so a server that accepts and then
// says nothing cannot hang a waiter.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

struct ProbeSpec {
  std::vector<std::string> hosts;  ///< numeric addresses, tried in order
  int port = 0;
  std::optional<std::string> http_path;
  int status_lo = 200;
  int status_hi = 399;
  Millis deadline{1000};  ///< for one probe of one host
};

struct ProbeResult {
  bool ready = false;
  std::string host;    ///< the host that answered
  int status = 0;      ///< HTTP status, when HTTP
  std::string detail;  ///< why not ready: "connection refused", "answered 404", ...
};

class PortProbe : public std::enable_shared_from_this<PortProbe> {
 public:
  PortProbe(boost::asio::io_context& io, ProbeSpec spec);
  ~PortProbe();
  /// Probes each host in turn; `done` gets the first ready answer, or the last failure.
  void run(std::function<void(ProbeResult)> done);
  void cancel();

 private:
  struct Impl;
  void try_host();
  void connected(std::uint64_t gen, const std::string& host);
  void read_status(std::uint64_t gen, const std::string& host);
  void finish(ProbeResult r);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
