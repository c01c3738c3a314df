#pragma once
// One run in the process table: its record, its phase and what it is waiting for. The
// Supervisor owns every Run and is the one that changes it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/proc.hpp"
#include "common/record.hpp"
#include "daemon/logs/cap.hpp"
#include "daemon/run/exit_watch.hpp"
#include "daemon/run/launcher.hpp"
#include "daemon/run/phase.hpp"
#include "daemon/run/report_watch.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

using Clock = std::chrono::steady_clock;

inline constexpr Millis kFirstBackoff{100};  ///< the first wait before a restart

/// What the exit watch of a run watches.
enum class Watched {
  own_waiter,      ///< the waiter we spawned: our child, reaped through its pidfd
  adopted_waiter,  ///< a waiter an earlier sbxd spawned
  program,         ///< the program itself: its waiter was lost (killed) while it ran on
};

struct Run {
  using WatchId = std::uint64_t;
  using EndFn = std::function<void(const ProcessRecord&)>;
  using TrimFn = std::function<void(std::uint8_t stream, const Trimmed& cut)>;

  ProcessRecord rec;
  Phase phase = Phase::launching;
  std::string program;            ///< resolved path, kept for restarts
  std::vector<std::string> envp;  ///< the environment, kept for restarts
  /// Until the waiter (and so the program) ends: what tells us that it did.
  std::unique_ptr<ExitWatch> exit_watch;
  Watched watched = Watched::adopted_waiter;
  /// Our end of the waiter's report socket while the program runs: how it ended comes there.
  std::unique_ptr<ReportWatch> report;
  /// While a run is being launched, until the waiter's first line says the program was
  /// exec'd (or could not be). No pid is known yet; status is starting.
  std::unique_ptr<Launcher::Pending> launch;
  /// Adopted while starting: looks for its program until it is found or kLaunchReportLimit passed.
  Timers::Timer adopt_timer;
  /// Asked of a run still being launched, applied once it runs.
  struct PendingStop {
    int sig;
    Millis grace;
    std::string reason;
  };
  std::optional<PendingStop> stop_when_launched;
  std::vector<int> signals_when_launched;
  /// Signals delivered on request (kill -s) to this run: ended by one of them, it was ended by sbx.
  std::vector<int> asked_signals;
  /// How the program of a run whose waiter was lost ended, learnt by reaping it ourselves
  /// (orphans of our waiters are re-parented to us, the subreaper).
  std::optional<int> orphan_status;
  std::map<WatchId, EndFn> watchers;
  std::map<WatchId, TrimFn> trim_watchers;
  std::vector<LogCap::Id> caps;  ///< while it runs with a log cap
  std::vector<std::function<void()>> stop_done;
  Timers::Timer kill_timer;
  Timers::Timer poll_timer;
  Timers::Timer timeout_timer;
  Timers::Timer restart_timer;  ///< pending while waiting to restart (status starting)
  std::optional<Clock::time_point> kill_sent_at;  ///< when SIGKILL went to the tree
  /// Set once a stop signalled the running program: why sbx ends it ("kill", "timeout",
  /// "stop"). A run that ends after that was ended by sbx, whatever its exit code.
  std::optional<std::string> stop_reason;
  int holds = 0;
  Millis backoff = kFirstBackoff;
  Clock::time_point run_started{};
  ProcStatus last_status = ProcStatus::failed;  ///< how the last run ended (during back-off)
};

}  // namespace sbx::daemon
