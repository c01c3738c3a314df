// A run's launch as the table sees it: the Launcher starts its waiter; once the waiter
// reports the exec the run is running (its pid recorded, its end watched, its logs capped,
// its timeout set, and what was asked meanwhile applied), or it ends as an error.

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <spdlog/spdlog.h>

#include "common/proc.hpp"
#include "daemon/logs/index_cut.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

namespace {
/// How long a relay may take to stop: it only reads what is in its pipes (on a full disk it
/// waits for space, and is killed then).
constexpr Millis kRelayStopLimit{1000};
}  // namespace

void Supervisor::stop_relay(ProcessRecord& r) {
  if (!r.relay_pid) return;
  pid_t relay = *r.relay_pid;
  auto ticks = r.relay_start_ticks;
  r.relay_pid.reset();
  r.relay_start_ticks.reset();
  // Start ticks count from boot: a relay of another boot is gone, whatever has its pid now.
  if (r.boot_id != boot_id_ || !ticks || !process_alive(relay, ticks)) return;
  spdlog::info("{}: stopping the relay (pid {}) of its last run's stragglers", r.id, relay);
  ::kill(relay, SIGTERM);
  // Blocks the loop, briefly and rarely: the next run must not write the log while it does.
  auto give_up = Clock::now() + kRelayStopLimit;
  while (process_alive(relay, ticks)) {
    ::waitpid(relay, nullptr, WNOHANG);  // ours as subreaper, once its waiter ended
    if (Clock::now() >= give_up) {
      spdlog::warn("{}: its relay (pid {}) did not stop within {}: killed", r.id, relay,
                   format_duration(kRelayStopLimit));
      ::kill(relay, SIGKILL);
      ::waitpid(relay, nullptr, 0);  // at once if it is not ours
      break;
    }
    struct timespec ms = {0, 1000000};
    ::nanosleep(&ms, nullptr);
  }
}

Status Supervisor::launch(const std::shared_ptr<Run>& e, bool first_run,
                          std::function<void(Status)> done) {
  stop_relay(e->rec);
  if (auto st = tree_.prepare(e->rec); !st) {  // nothing started: the run ends as an error
    done(st.error());
    return ok_status();
  }
  e->report.reset();
  std::weak_ptr<Run> weak = e;
  auto reported = [this, weak, first_run, done = std::move(done)](Result<Launcher::Exec> exec) {
    if (auto e = weak.lock()) launch_reported(e, std::move(exec), first_run, done);
  };
  auto st =
      launcher_.launch(e->rec, e->program, e->envp, first_run, std::move(reported), e->launch);
  if (st) hand_over(e->rec.id, true);  // the last run's end: its record is replaced
  if (st && e->launch) ++launches_;
  if (!st) tree_.release(e->rec.cgroup);  // nothing started in it
  return st;
}

void Supervisor::launch_reported(const std::shared_ptr<Run>& e, Result<Launcher::Exec> exec,
                                 bool first_run, const std::function<void(Status)>& done) {
  // Without a pending launch, not even the waiter could be started: nothing was counted.
  bool was_pending = e->launch != nullptr;
  e->launch.reset();
  if (!exec) {
    if (was_pending) {
      e->stop_when_launched.reset();
      e->signals_when_launched.clear();
      launch_finished();
    }
    done(exec.error());
    return;
  }
  ProcessRecord& r = e->rec;
  // The environment is kept for restarts only: a run that never restarts does not hold a
  // copy of it (a few KiB each) for as long as it lives.
  if (r.restart != "always" && r.restart != "on-failure") std::vector<std::string>().swap(e->envp);
  e->report =
      std::make_unique<ReportWatch>(io_, std::move(exec->report), std::move(exec->report_seen));
  transition(*e, PhaseEvent::exec_reported);
  r.pid = exec->pid;
  r.pid_start_ticks = process_start_ticks(exec->pid);
  programs_[exec->pid] = e;
  e->asked_signals.clear();
  r.status = ProcStatus::running;
  r.start_time = exec->released;  // the record never says it started after its first output
  r.end_time.reset();
  e->run_started = Clock::now();
  watch_exit(e, Watched::own_waiter);
  watch_report(e);
  cap_logs(e);
  if (r.timeout_ms) arm_timeout(e, Millis(*r.timeout_ms));
  launch_finished();
  // The client has its answer first: until this save the record on disk says "starting"
  // with the waiter's pid, which a daemon after a crash adopts (adopt_launch) as it would this.
  done(ok_status());
  store_.save(r);
  spdlog::info("{} {} (pid {}): {}", first_run ? "started" : "restarted", r.id, r.pid.value_or(0),
               r.command);
  // What was asked while it was being launched, now that it has a pid and a group.
  auto signals = std::move(e->signals_when_launched);
  e->signals_when_launched.clear();
  for (int sig : signals) signal_run(e, sig);
  if (auto stop = e->stop_when_launched) {
    e->stop_when_launched.reset();
    begin_stop(e, stop->sig, stop->grace, stop->reason, nullptr);
  }
}

void Supervisor::arm_timeout(const std::shared_ptr<Run>& e, Millis delay) {
  std::weak_ptr<Run> weak = e;
  e->timeout_timer = timers_.start(std::max(delay, Millis{0}), [this, weak] {
    auto e = weak.lock();
    if (!e || e->rec.ended()) return;
    // Ended already (a zombie, or reaped), its exit report not read yet: it ended by
    // itself, and must not be recorded as stopped by its timeout.
    if (e->rec.pid && !process_alive(*e->rec.pid, e->rec.pid_start_ticks)) return;
    spdlog::info("{} ran for its timeout of {}: stopping it", e->rec.id,
                 format_duration(Millis(*e->rec.timeout_ms)));
    begin_stop(e, kStopSignal, kStopGrace, "timeout", nullptr);
  });
}

void Supervisor::cap_logs(const std::shared_ptr<Run>& e) {
  if (e->rec.log_max <= 0 || !e->caps.empty()) return;
  for (bool is_err : {false, true}) {
    std::weak_ptr<Run> weak = e;
    e->caps.push_back(log_cap_.add(
        paths_.log_path(e->rec.id, is_err), e->rec.log_max, [this, weak, is_err](const Trimmed& t) {
          auto e = weak.lock();
          if (!e) return;
          (is_err ? e->rec.dropped_stderr : e->rec.dropped_stdout) += t.removed;
          if (t.shifted) (is_err ? e->rec.collapsed_stderr : e->rec.collapsed_stdout) += t.removed;
          cut_index(e->rec);
          store_.save(e->rec);
          auto fns = e->trim_watchers;  // a watcher may unwatch
          for (auto& [w, fn] : fns) fn(is_err ? 2 : 1, t);
        }));
  }
}

void Supervisor::cut_index(const ProcessRecord& r) {
  auto cut = cut_index_file(paths_.index_path(r.id),
                            first_kept_byte(paths_.log_path(r.id, false), r.collapsed_stdout),
                            first_kept_byte(paths_.log_path(r.id, true), r.collapsed_stderr));
  if (!cut)
    spdlog::warn("{}: {}; its index keeps entries of what the cap cut", r.id, cut.error().message);
}

void Supervisor::uncap_logs(const std::shared_ptr<Run>& e) {
  for (auto id : e->caps) log_cap_.finish(id);  // what it wrote last is capped too
  e->caps.clear();
}

void Supervisor::launch_finished() {
  if (--launches_ > 0) return;
  auto fns = std::move(when_no_launches_);
  when_no_launches_.clear();
  for (auto& fn : fns) fn();
}

}  // namespace sbx::daemon
