#pragma once
// The process table: starts children, learns how they end, signals their trees, and keeps
// every record on disk current. All of it runs on the daemon's one event-loop thread.
// Its jobs are split by file (the sections of its private part below); what a job keeps to
// itself is a class of its own (Launcher, ExitWatch, RunTree, RecordStore, LogCap).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/paths.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/logs/cap.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/run/launcher.hpp"
#include "daemon/run/phase.hpp"
#include "daemon/run/record_store.hpp"
#include "daemon/run/run.hpp"
#include "daemon/run/tree.hpp"
#include "daemon/timers.hpp"
#include "proto/requests_start.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

/// What to start: the start request as the CLI sent it, checked (proto/requests_start.hpp).
using StartSpec = proto::StartRequest;

class Supervisor {
 public:
  using EndFn = Run::EndFn;
  using WatchId = Run::WatchId;

  Supervisor(boost::asio::io_context& io, const Paths& paths, Timers& timers, LogWatch& log_watch);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;  ///< its runs' callbacks hold `this`
  Supervisor& operator=(const Supervisor&) = delete;

  /// Chooses how process trees are known (run/tree.hpp); an error when SBX_TREE asks for
  /// what the host cannot give. Before load().
  Status open_trees() { return tree_.open(paths_.state_dir); }
  /// "cgroup" or "token": how the trees of new runs are known.
  const char* tree_mode() const { return tree_.mode(); }
  /// The cgroup subtree this daemon owns; empty in the token mode.
  std::string tree_root() const { return tree_.subtree(); }
  /// Once every run was stopped (`daemon stop`): their cgroups and sbxd's subtree go.
  void close_trees() { tree_.close(); }

  /// Reads every record at start-up; processes that were live are re-watched if they
  /// still run (same pid and start time) and marked ended otherwise.
  void load();

  /// Starts a process: `done` gets its record once the program was exec'd (running, with
  /// its pid), or the error that says why it could not start (its record says error).
  /// `done` runs inside this call when the start is refused or fails before the exec.
  /// Until the exec the record says starting, without a pid; a stop or a signal asked
  /// then is applied once it runs.
  using StartFn = std::function<void(Result<ProcessRecord>)>;
  void start(StartSpec spec, StartFn done);

  const ProcessRecord* find(const std::string& id) const;
  /// The record of `id`: a usage error for what is no id, "no process 'ID'" (not_found)
  /// when there is none.
  Result<const ProcessRecord*> lookup(const std::string& id) const {
    if (auto st = check_id(id); !st) return st.error();
    if (const ProcessRecord* r = find(id)) return r;
    return no_process(id);
  }
  /// The error of an id that names no process (not_found), the one place it is written.
  static Error no_process(const std::string& id) {
    return make_error(Errc::not_found, "no process '" + id + "': see 'sbx ps'");
  }
  std::vector<const ProcessRecord*> all() const;  ///< ordered by start time
  std::size_t live_count() const;

  /// Calls `fn` once when the live process `id` ends (with its final record).
  WatchId watch_end(const std::string& id, EndFn fn);
  void unwatch_end(const std::string& id, WatchId w);

  /// Sends `sig` to the process's whole tree (its process group). A run that this signal
  /// kills was ended by sbx: killed, reason "kill".
  Status signal(const std::string& id, int sig);
  /// Ends the process for good (no more restarts): sends `sig` to the tree, then SIGKILL to
  /// what is left once `grace` has passed. A run it ends is killed, with `reason` ("kill",
  /// "timeout", "stop") and its real exit code or signal.
  /// `done` runs once the leader has ended and the rest of its process group is gone
  /// (or, after SIGKILL, could not be reaped within a second).
  Status stop(const std::string& id, int sig, Millis grace, const std::string& reason,
              std::function<void()> done);

  /// The processes of r's tree now, as signal() finds them (RunTree::pids); of many runs
  /// from one pass over /proc.
  std::vector<pid_t> tree_pids(const ProcessRecord& r) { return tree_.pids(r); }
  std::vector<std::vector<pid_t>> tree_pids(const std::vector<const ProcessRecord*>& runs) {
    return tree_.pids(runs);
  }

  /// Reaps children that are no waiter of ours (orphans we adopted as subreaper).
  void reap_orphans();

  /// For `daemon restart`: no run starts from now on (restarts stay due, as their records
  /// say); `ready` runs once no run is being launched, so every live record has its pid.
  void freeze(std::function<void()> ready);

  /// Forgets an ended process: its record and its logs. A live one is refused.
  Status remove(const std::string& id);
  /// The final record of an --rm process removed in the last minute, so that a `wait`
  /// that comes after a fast process already ended still learns how it ended.
  const ProcessRecord* recently_removed(const std::string& id) const;
  /// Calls `fn(stream, cut)` when the oldest bytes of a log were dropped to keep it within
  /// its cap.
  using TrimFn = Run::TrimFn;
  WatchId watch_trim(const std::string& id, TrimFn fn);
  void unwatch_trim(const std::string& id, WatchId w);
  /// While held (a follower is reading its logs), an --rm process is not removed.
  /// The hold ends when the returned handle is dropped; it names this process, not its
  /// id, so a later process of the same id is never released by mistake.
  [[nodiscard]] std::shared_ptr<void> hold(const std::string& id);

 private:
  /// How long a late `wait` finds an --rm record.
  static constexpr Millis kRemovedMemory{60'000};

  boost::asio::io_context& io_;
  const Paths& paths_;
  Timers& timers_;
  std::map<std::string, std::shared_ptr<Run>> entries_;
  std::unordered_set<pid_t>
      waiter_pids_;  ///< our live waiters: reaped by their exit watch, not by reap_orphans
  /// The programs of live runs by pid: where the status of one that we reap goes.
  std::unordered_map<pid_t, std::weak_ptr<Run>> programs_;
  WatchId next_watch_ = 1;
  std::uint64_t next_auto_id_ = 1;
  struct Removed {
    ProcessRecord rec;
    Clock::time_point at;
  };
  std::map<std::string, Removed> removed_;  ///< --rm records, for a late `wait`

  LogCap log_cap_;
  RecordStore store_;
  std::string boot_id_;  ///< this boot's /proc/sys/kernel/random/boot_id
  Launcher launcher_;

  RunTree tree_;

  /// Waiters whose run ended by their report, kept until they are reaped: they wait for
  /// our word (hand_over) before they exit.
  std::unordered_map<pid_t, std::unique_ptr<ExitWatch>> reaping_;
  /// The report sockets of those not answered yet, by record id (one per id: a newer end
  /// of the same record answers the older).
  std::unordered_map<std::string, std::unique_ptr<ReportWatch>> unanswered_;

  // supervisor.cpp
  std::string pick_id();
  void note_id(const std::string& id);
  void forget(const std::shared_ptr<Run>& e);

  // supervisor_adopt.cpp
  /// A record still starting whose waiter lives (its sbxd died before the exec's report):
  /// watches the waiter and looks for the program among its children.
  void adopt_launch(const std::shared_ptr<Run>& e);
  void find_adopted_program(const std::shared_ptr<Run>& e, Clock::time_point give_up);
  /// An adopted run whose program runs: its log caps, timeout and restart policy again.
  void adopted_running(const std::shared_ptr<Run>& e);

  // supervisor_launch.cpp
  /// Starts a run; `done` is called once the program was exec'd (the record says running,
  /// with its pid) or could not be (the error says why; the caller ends the entry) - at
  /// once, before returning, when not even the waiter could be started. Returns an error,
  /// without calling `done`, when the run's record could not be written: nothing started,
  /// and the record on disk is as it was.
  [[nodiscard]] Status launch(const std::shared_ptr<Run>& e, bool first_run,
                              std::function<void(Status)> done);
  /// The waiter's first line (or a launch that failed before it): the run goes on or ends.
  void launch_reported(const std::shared_ptr<Run>& e, Result<Launcher::Exec> exec, bool first_run,
                       const std::function<void(Status)>& done);
  void launch_finished();
  /// Stops the relay that the last run of `r` left for stragglers, if it still runs, and
  /// waits (at most kRelayStopLimit, then it is killed) until it relayed what is in its
  /// pipes and ended: the next run's waiter goes on with the same log.
  void stop_relay(ProcessRecord& r);
  std::size_t launches_ = 0;  ///< runs being launched now
  std::vector<std::function<void()>> when_no_launches_;
  bool frozen_ = false;  ///< detaching: no new run starts
  void cap_logs(const std::shared_ptr<Run>& e);
  void uncap_logs(const std::shared_ptr<Run>& e);
  /// After a cap cut a log of `r`: cuts the index entries of what is gone (logs/index_cut.hpp).
  void cut_index(const ProcessRecord& r);

  // supervisor_exit.cpp
  /// The one place a phase changes: the transition `event` makes (run/phase.hpp).
  void transition(Run& e, PhaseEvent event);
  void watch_exit(const std::shared_ptr<Run>& e, Watched what);
  /// Watches the report socket of a run whose program runs for the end its waiter reports.
  void watch_report(const std::shared_ptr<Run>& e);
  /// The waiter reported the program's end (its status, maybe a relay): the run ends now.
  void waiter_reported_end(const std::shared_ptr<Run>& e, const std::string& report);
  void note_relay(ProcessRecord& r, const std::string& report);
  /// Answers the waiter whose report ended record `id`, if one waits: `held`, its record
  /// is durable or no longer needs the status (the waiter exits without its exit file);
  /// else the socket is only closed (it writes the file). False if none waited.
  bool hand_over(const std::string& id, bool held);
  /// The waiter is gone: the status it wrote, if any, ends the run.
  void waiter_ended(const std::shared_ptr<Run>& e);
  /// Reaps our children that are no waiter; the program of a run among them gives its status to its
  /// entry.
  void reap_orphans_now();
  /// The run ended; `unknown` says why, when `wait_status` is not known.
  void ended(const std::shared_ptr<Run>& e, std::optional<int> wait_status,
             const char* unknown =
                 "exit status unknown: its waiter (sbx-shim) was killed before the process ended");
  void finalize(const std::shared_ptr<Run>& e);
  void maybe_cleanup(const std::shared_ptr<Run>& e);
  /// Ends an entry that could not start (status error) and returns the error to report.
  Error fail(const std::shared_ptr<Run>& e, const std::string& reason);

  // supervisor_restart.cpp
  bool should_restart(const Run& e) const;
  /// A run that restarts keeps its program and environment on disk (ID.env) for a daemon
  /// that adopts it after a crash; others have none (`previous`, the run of that id it
  /// replaces, may have left one).
  void save_restart_env(const Run& e, const Run* previous);
  /// Adopted: what it restarts with, if it has a restart policy and its ID.env is readable.
  void load_restart_env(Run& e);
  /// Stops the run by its timeout after `delay` (at launch its whole timeout; adopted,
  /// what is left of it since its start_time).
  void arm_timeout(const std::shared_ptr<Run>& e, Millis delay);
  void schedule_restart(const std::shared_ptr<Run>& e);

  // supervisor_stop.cpp
  void begin_stop(const std::shared_ptr<Run>& e, int sig, Millis grace, const std::string& reason,
                  std::function<void()> done);
  /// A signal asked for by a client (kill -s): delivered to the tree and remembered.
  void signal_run(const std::shared_ptr<Run>& e, int sig);
  void check_stop(const std::shared_ptr<Run>& e);
};

}  // namespace sbx::daemon
