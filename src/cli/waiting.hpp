#pragma once
// A request that waits (wait, wait-log, wait-port, logs -f, the waits of start), carried
// through a daemon restart or crash. The next daemon adopts the live processes and reads
// the exit status of those that ended meanwhile, so asking it again gives the answer the
// lost one would have given. When the connection breaks before the final frame (or the
// daemon says no HELLO in time), the request is sent again to the daemon that runs then,
// started if none does, resumed where the lost one left off. It gives up only when no
// daemon answered for kDaemonPatienceMs in a row: exit kExitNoDaemon.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>

#include "cli/client.hpp"

namespace sbx::cli {

class WaitingCall {
 public:
  struct Hooks {
    Client::DataFn on_data;
    Client::EventFn on_event;
    Client::TickFn on_tick;
    int watch_fd = -1;  ///< see Client::watch_reader
    /// Makes the request that is sent again to a new daemon (where to resume); the first
    /// request is sent as given.
    std::function<void(boost::json::object& args)> resume;
  };

  WaitingCall(std::string op, boost::json::object args, Hooks hooks)
      : op_(std::move(op)), args_(std::move(args)), hooks_(std::move(hooks)) {}

  /// Sends the request over `first` (else over a new connection) until it has its answer.
  /// A `timeout_ms` of the request is one deadline over every attempt: each carries the
  /// time left and, as `waited_ms`, the time already waited (for the daemon's message).
  Result<boost::json::value> run(std::optional<Client> first = std::nullopt);
  /// Prints the error of a failed run() as "sbx: ..." and returns the exit code:
  /// kExitNoDaemon when it gave up for want of a daemon.
  int fail(const Error& e) const;

 private:
  void pause(int ms) const;
  std::string op_;
  boost::json::object args_;
  Hooks hooks_;
  bool gave_up_ = false;
};

}  // namespace sbx::cli
