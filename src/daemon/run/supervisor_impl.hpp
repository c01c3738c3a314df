#pragma once
// Private to supervisor*.cpp: a table entry and the supervisor's state, whose jobs are
// split by file (see the sections below); what a job keeps to itself is a class of its own.

#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/defaults.hpp"
#include "common/fd.hpp"
#include "common/proc.hpp"
#include "daemon/logs/cap.hpp"
#include "daemon/run/exit_watch.hpp"
#include "daemon/run/launcher.hpp"
#include "daemon/run/phase.hpp"
#include "daemon/run/record_store.hpp"
#include "daemon/run/supervisor.hpp"
#include "daemon/run/tree.hpp"

namespace sbx::daemon {

using Clock = std::chrono::steady_clock;

inline constexpr Millis kFirstBackoff{100};
inline constexpr Millis kMaxBackoff{30'000};
inline constexpr Millis kHealthyRun{10'000};     ///< a run this long resets the back-off
inline constexpr Millis kRemovedMemory{60'000};  ///< how long a late `wait` finds an --rm record

/// What the exit watch of a run watches.
enum class Watched {
  own_waiter,      ///< the waiter we spawned: our child, reaped through its pidfd
  adopted_waiter,  ///< a waiter an earlier sbxd spawned
  program,         ///< the program itself: its waiter was lost (killed) while it ran on
};

struct Supervisor::Entry {
  ProcessRecord rec;
  Phase phase = Phase::launching;
  std::string program;            ///< resolved path, kept for restarts
  std::vector<std::string> envp;  ///< the environment, kept for restarts
  /// Until the waiter (and so the program) ends: what tells us that it did.
  std::unique_ptr<ExitWatch> exit_watch;
  Watched watched = Watched::adopted_waiter;
  /// Our end of the waiter's report socket: the status, should the exit file be unwritable.
  UniqueFd report;
  std::string report_seen;  ///< what was read past the waiter's first line
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

struct Supervisor::Impl {
  boost::asio::io_context& io;
  const Paths& paths;
  Timers& timers;
  std::map<std::string, std::shared_ptr<Entry>> entries;
  std::unordered_set<pid_t>
      waiter_pids;  ///< our live waiters: reaped by their exit watch, not by reap_orphans
  /// The programs of live runs by pid: where the status of one that we reap goes.
  std::unordered_map<pid_t, std::weak_ptr<Entry>> programs;
  WatchId next_watch = 1;
  std::uint64_t next_auto_id = 1;
  struct Removed {
    ProcessRecord rec;
    Clock::time_point at;
  };
  std::map<std::string, Removed> removed;  ///< --rm records, for a late `wait`

  LogCap log_cap;
  RecordStore store;
  std::string boot_id;  ///< this boot's /proc/sys/kernel/random/boot_id
  Launcher launcher;

  Impl(boost::asio::io_context& io_, const Paths& p, Timers& t, LogWatch& w)
      : io(io_),
        paths(p),
        timers(t),
        log_cap(w, t),
        store(p, t,
              [this](const std::string& id) -> const ProcessRecord* {
                auto it = entries.find(id);
                return it == entries.end() ? nullptr : &it->second->rec;
              }),
        boot_id(read_boot_id()),
        launcher(io_, t, p, store, waiter_pids, boot_id) {}
  RunTree tree;

  // supervisor.cpp
  std::string pick_id();
  void note_id(const std::string& id);
  void forget(const std::shared_ptr<Entry>& e);

  // supervisor_adopt.cpp
  /// A record still starting whose waiter lives (its sbxd died before the exec's report):
  /// watches the waiter and looks for the program among its children.
  void adopt_launch(const std::shared_ptr<Entry>& e);
  void find_adopted_program(const std::shared_ptr<Entry>& e, Clock::time_point give_up);

  // supervisor_launch.cpp
  /// Starts a run; `done` is called once the program was exec'd (the record says running,
  /// with its pid) or could not be (the error says why; the caller ends the entry) - at
  /// once, before returning, when not even the waiter could be started. Returns an error,
  /// without calling `done`, when the run's record could not be written: nothing started,
  /// and the record on disk is as it was.
  [[nodiscard]] Status launch(const std::shared_ptr<Entry>& e, bool first_run,
                              std::function<void(Status)> done);
  /// The waiter's first line (or a launch that failed before it): the run goes on or ends.
  void launch_reported(const std::shared_ptr<Entry>& e, Result<Launcher::Exec> exec, bool first_run,
                       const std::function<void(Status)>& done);
  void launch_finished();
  std::size_t launches = 0;  ///< runs being launched now
  std::vector<std::function<void()>> when_no_launches;
  bool frozen = false;  ///< detaching: no new run starts
  void cap_logs(const std::shared_ptr<Entry>& e);
  void uncap_logs(const std::shared_ptr<Entry>& e);

  // supervisor_exit.cpp
  /// The one place a phase changes: the transition `event` makes (run/phase.hpp).
  void transition(Entry& e, PhaseEvent event);
  void watch_exit(const std::shared_ptr<Entry>& e, Watched what);
  /// The waiter is gone: the status it wrote, if any, ends the run.
  void waiter_ended(const std::shared_ptr<Entry>& e);
  /// Reaps our children that are no waiter; the program of a run among them gives its status to its
  /// entry.
  void reap_orphans_now();
  /// The run ended; `unknown` says why, when `wait_status` is not known.
  void ended(const std::shared_ptr<Entry>& e, std::optional<int> wait_status,
             const char* unknown =
                 "exit status unknown: its waiter (sbx-shim) was killed before the process ended");
  void finalize(const std::shared_ptr<Entry>& e);
  void maybe_cleanup(const std::shared_ptr<Entry>& e);
  /// Ends an entry that could not start (status error) and returns the error to report.
  Error fail(const std::shared_ptr<Entry>& e, const std::string& reason);

  // supervisor_restart.cpp
  bool should_restart(const Entry& e) const;
  void schedule_restart(const std::shared_ptr<Entry>& e);

  // supervisor_stop.cpp
  void begin_stop(const std::shared_ptr<Entry>& e, int sig, Millis grace, const std::string& reason,
                  std::function<void()> done);
  /// A signal asked for by a client (kill -s): delivered to the tree and remembered.
  void signal_run(const std::shared_ptr<Entry>& e, int sig);
  void check_stop(const std::shared_ptr<Entry>& e);
};

}  // namespace sbx::daemon
