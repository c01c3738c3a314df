#pragma once
// Private to supervisor*.cpp: a table entry and the supervisor's state. Includes Asio and
// Boost.Process, so nothing else may include it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/defaults.hpp"
#include "common/fd.hpp"
#include "daemon/log_cap.hpp"
#include "daemon/supervisor.hpp"

namespace sbx::daemon {

using Clock = std::chrono::steady_clock;

inline constexpr Millis kFirstBackoff{100};
inline constexpr Millis kMaxBackoff{30'000};
inline constexpr Millis kHealthyRun{10'000};      ///< a run this long resets the back-off
inline constexpr Millis kRemovedMemory{60'000};   ///< how long a late `wait` finds an --rm record
inline constexpr Millis kTokenScanTtl{15};
inline constexpr Millis kSaveRetry{1000};         ///< how often an unsaved record is tried again
inline constexpr Millis kLaunchReportLimit{30'000};  ///< the waiter answers within an exec's time
inline constexpr Millis kExitPollInterval{100};     ///< how often an end without a pidfd is checked

struct Supervisor::Entry {
  ProcessRecord rec;
  std::string program;              ///< resolved path, kept for restarts
  std::vector<std::string> envp;    ///< the environment, kept for restarts
  /// The pidfd of the process's waiter (sbx-shim), readable once the waiter, and so the
  /// program, has ended. A pidfd names the process, never a reused pid.
  std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd;
  /// Without a pidfd (none could be opened): the timer that checks whether the waiter ended.
  Timers::Id exit_poll_timer = 0;
  /// The waiter is our child (we reap it), not one adopted from an earlier sbxd.
  bool own_child = false;
  /// The waiter was lost (killed) while the program ran on: the pidfd watches the program.
  bool orphaned = false;
  /// Our end of the waiter's report socket: the status, should the exit file be unwritable.
  UniqueFd report;
  std::string report_seen;          ///< what was read past the waiter's first line
  /// While a run is being launched: the report socket, until the waiter's first line says
  /// the program was exec'd (or could not be). No pid is known yet; status is starting.
  std::unique_ptr<boost::asio::posix::stream_descriptor> launching;
  std::string launch_line;
  Timers::Id launch_timer = 0;
  std::function<void(Status)> launched;
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
  std::vector<LogCap::Id> caps;     ///< while it runs with a log cap
  std::vector<std::function<void()>> stop_done;
  Timers::Id kill_timer = 0;
  Timers::Id poll_timer = 0;
  Timers::Id timeout_timer = 0;
  Timers::Id restart_timer = 0;     ///< set while waiting to restart (status starting)
  bool sent_kill = false;
  Clock::time_point kill_sent_at{};
  bool stop_requested = false;      ///< ended for good: no restart
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
  std::unordered_set<pid_t> leaders;  ///< pids of live children we reap through their handle
  /// The programs of live runs by pid: where the status of one that we reap goes.
  std::unordered_map<pid_t, std::weak_ptr<Entry>> programs;
  std::string boot_id;      ///< this boot's /proc/sys/kernel/random/boot_id
  WatchId next_watch = 1;
  std::uint64_t next_auto_id = 1;
  UniqueFd dev_null;
  std::string waiter_path;  ///< sbx-shim
  struct Removed {
    ProcessRecord rec;
    Clock::time_point at;
  };
  std::map<std::string, Removed> removed;  ///< --rm records, for a late `wait`

  LogCap log_cap;

  Impl(boost::asio::io_context& io_, const Paths& p, Timers& t, LogWatch& w)
      : io(io_), paths(p), timers(t), log_cap(w, t) {}
  /// The processes of a run (by SBX_RUN_TOKEN), its waiter left out. /proc is scanned at
  /// most once per kTokenScanTtl, so stopping a thousand processes costs a few scans.
  std::vector<pid_t> run_processes(const ProcessRecord& r);
  std::vector<std::pair<pid_t, std::string>> token_scan;
  Clock::time_point token_scan_at{};
  void signal_tree(const ProcessRecord& r, int sig);
  /// A signal asked for by a client (kill -s): delivered to the tree and remembered.
  void signal_run(const std::shared_ptr<Entry>& e, int sig);
  bool tree_alive(const ProcessRecord& r);
  void cap_logs(const std::shared_ptr<Entry>& e);
  void uncap_logs(const std::shared_ptr<Entry>& e);

  // supervisor.cpp
  /// Writes the record; a record that cannot be written (a full disk) is kept in memory,
  /// reported, and written again every kSaveRetry until it is. Returns the first error.
  Status save(const ProcessRecord& r);
  std::set<std::string> unsaved;  ///< ids whose record on disk is behind
  Timers::Id save_retry = 0;
  void retry_saves();
  std::string pick_id();
  void note_id(const std::string& id);
  void forget(const std::shared_ptr<Entry>& e);

  // supervisor_launch.cpp
  /// Starts a run; `done` is called once the program was exec'd (the record says running,
  /// with its pid) or could not be (the error says why; the caller ends the entry) - at
  /// once, before returning, when not even the waiter could be started. Returns an error,
  /// without calling `done`, when the run's record could not be written: nothing started,
  /// and the record on disk is as it was.
  [[nodiscard]] Status launch(const std::shared_ptr<Entry>& e, bool first_run, std::function<void(Status)> done);
  void read_launch_report(const std::shared_ptr<Entry>& e);
  void launch_reported(const std::shared_ptr<Entry>& e, Result<pid_t> pid);
  void launch_finished();
  std::size_t launches = 0;        ///< runs being launched now
  std::vector<std::function<void()>> when_no_launches;
  bool frozen = false;             ///< detaching: no new run starts
  /// A record still starting whose waiter lives (its sbxd died before the exec's report):
  /// watches the waiter and looks for the program among its children.
  void adopt_launch(const std::shared_ptr<Entry>& e);
  void find_adopted_program(const std::shared_ptr<Entry>& e, Clock::time_point give_up);

  // supervisor_run.cpp: runs, exits, restarts, stops
  void watch_exit(const std::shared_ptr<Entry>& e, bool own_child);
  /// The waiter is gone: the status it wrote, if any, ends the run.
  void waiter_ended(const std::shared_ptr<Entry>& e);
  void arm_exit(const std::shared_ptr<Entry>& e);
  // supervisor_exit_poll.cpp
  /// When no pidfd can be opened (`err`: EMFILE, say): checks every kExitPollInterval,
  /// without blocking, whether the waiter ended, and goes back to a pidfd once one opens.
  void poll_exit(const std::shared_ptr<Entry>& e, int err);
  void check_exit_polled(const std::shared_ptr<Entry>& e);
  /// The run ended; `unknown` says why, when `wait_status` is not known.
  void ended(const std::shared_ptr<Entry>& e, std::optional<int> wait_status,
             const char* unknown = "exit status unknown: its waiter (sbx-shim) was killed before the process ended");
  void finalize(const std::shared_ptr<Entry>& e);
  bool should_restart(const Entry& e) const;
  void schedule_restart(const std::shared_ptr<Entry>& e);
  void begin_stop(const std::shared_ptr<Entry>& e, int sig, Millis grace, const std::string& reason,
                  std::function<void()> done);
  void check_stop(const std::shared_ptr<Entry>& e);
  void maybe_cleanup(const std::shared_ptr<Entry>& e);
  /// Reaps our children that are no waiter; the program of a run among them gives its status to its entry.
  void reap_orphans_now();
  /// Ends an entry that could not start (status error) and returns the error to report.
  Error fail(const std::shared_ptr<Entry>& e, const std::string& reason);
};

}  // namespace sbx::daemon
