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
#include "common/duration.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {

class WaitingCall {
 public:
  struct Hooks {
    Client::DataFn on_data;
    Client::ChunkFn on_chunk;  ///< see Client::stream
    Client::EventFn on_event;
    Client::TickFn on_tick;
    int watch_fd = -1;  ///< see Client::watch_reader
    int input_fd = -1;  ///< see Client::watch_input, also watched between attempts
    std::function<void()> on_input;
  };
  /// The request of one attempt: `resumed` once one was sent to a lost daemon (the request
  /// then says where to resume); its deadline holds the time left and the time waited.
  using MakeRequest =
      std::function<boost::json::object(bool resumed, const proto::Deadline& deadline)>;

  /// `timeout`: one deadline over every attempt.
  WaitingCall(std::string_view op, std::optional<Millis> timeout, MakeRequest make, Hooks hooks)
      : op_(op), timeout_(timeout), make_(std::move(make)), hooks_(std::move(hooks)) {}

  /// Sends the request over `first` (else over a new connection) until it has its answer.
  Result<boost::json::value> run(std::optional<Client> first = std::nullopt);
  /// Prints the error of a failed run() as "sbx: ..." and returns the exit code:
  /// kExitNoDaemon when it gave up for want of a daemon.
  int fail(const Error& e) const;
  /// The exit code fail() would return, printing nothing.
  int fail_code(const Error& e) const;

 private:
  void pause(int ms) const;
  std::string op_;
  std::optional<Millis> timeout_;
  MakeRequest make_;
  Hooks hooks_;
  bool gave_up_ = false;
};

}  // namespace sbx::cli
