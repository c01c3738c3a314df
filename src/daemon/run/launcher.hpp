#pragma once
// Launching a run: its waiter, its record before the program starts, and the waiter's first
// line. The waiter is spawned held: it starts the program only once the run's record,
// naming the waiter's pid, is on disk. So a record never misses a run that may have
// started: a daemon that dies before the exec is reported leaves a record by which the
// next one adopts the run, and a record that cannot be written starts nothing.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/fd.hpp"
#include "common/paths.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/run/record_store.hpp"
#include "daemon/run/spare_waiter.hpp"
#include "daemon/timers.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

inline constexpr Millis kLaunchReportLimit{30'000};  ///< the waiter answers within an exec's time

class Launcher {
 public:
  /// `waiter_pids` gets each waiter from the moment it is ours to reap, and loses it when
  /// a failed launch reaped it.
  Launcher(boost::asio::io_context& io, Timers& timers, const Paths& paths, RecordStore& store,
           std::unordered_set<pid_t>& waiter_pids, std::string boot_id);
  ~Launcher();

  /// The waiter's report that the program was exec'd.
  struct Exec {
    pid_t pid = -1;
    UniqueFd report;          ///< the rest of the report socket: "exit STATUS" comes there
    std::string report_seen;  ///< what was read past the first line
    EpochMs released = 0;     ///< when the waiter was let go: the program cannot start before
  };
  using Done = std::function<void(Result<Exec>)>;
  /// A launch waiting for the waiter's first line; dropping it drops the socket, and `done`
  /// is never called.
  class Pending;

  /// Starts the waiter of run `r` (whose record it updates: its waiter, token and boot,
  /// status starting) and, once that record is on disk, lets it start `program`.
  /// Returns an error, without calling `done`, when the record could not be written:
  /// nothing started, the record on disk is as it was. Otherwise `pending` is set and
  /// `done` comes from the loop, or `pending` stays empty and `done` (a failure) has
  /// already run: not even the waiter could be started. A first run empties the logs.
  /// `r` must outlive `pending`.
  Status launch(ProcessRecord& r, const std::string& program, const std::vector<std::string>& envp,
                bool first_run, Done done, std::unique_ptr<Pending>& pending);

 private:
  boost::asio::io_context& io_;
  Timers& timers_;
  const Paths& paths_;
  RecordStore& store_;
  std::unordered_set<pid_t>& waiter_pids_;
  std::string boot_id_;
  std::string waiter_path_;  ///< sbx-shim
  SpareWaiter spare_;
  UniqueFd dev_null_;
};

class Launcher::Pending {
 public:
  struct State;
  explicit Pending(std::shared_ptr<State> s) : state_(std::move(s)) {}
  ~Pending();
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sbx::daemon
