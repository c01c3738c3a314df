// How a run ends: its exit watch, the status its waiter left (or, the waiter lost, what
// reaping the program told), the final record and --rm clean-up. The one place the
// phase changes (run/phase.hpp) is here too.

#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>

#include "common/atomic_file.hpp"
#include "common/proc.hpp"
#include "common/signal_names.hpp"
#include "daemon/run/exit_watch.hpp"
#include "daemon/run/spawn.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

void Supervisor::transition(Run& e, PhaseEvent event) {
  auto next = next_phase(e.phase, event);
  if (!next) {
    spdlog::error("{}: {} cannot happen while {}: ignored", e.rec.id, phase_event_name(event),
                  phase_name(e.phase));
    return;
  }
  e.phase = *next;
}

void Supervisor::watch_exit(const std::shared_ptr<Run>& e, Watched what) {
  e->watched = what;
  bool program = what == Watched::program;
  bool own = what == Watched::own_waiter;
  pid_t pid = program ? e->rec.pid.value_or(0) : e->rec.waiter_pid.value_or(0);
  auto ticks = program ? e->rec.pid_start_ticks : e->rec.waiter_start_ticks;
  std::weak_ptr<Run> weak = e;
  std::function<bool()> alive = [pid, ticks] { return process_alive(pid, ticks); };
  if (program) {
    alive = [this, weak, pid, ticks] {
      reap_orphans_now();  // the program may be our child now, and a zombie
      auto e = weak.lock();
      return e && !e->orphan_status && process_alive(pid, ticks);
    };
  }
  auto on_end = [this, weak, own, pid] {
    if (own) waiter_pids_.erase(pid);
    if (reaping_.erase(pid)) return;  // its run ended by its report
    auto e = weak.lock();
    if (!e) return;
    e->exit_watch.reset();
    waiter_ended(e);
  };
  e->exit_watch = std::make_unique<ExitWatch>(io_, timers_, e->rec.id, pid, own, std::move(alive));
  if (!e->exit_watch->start(on_end)) on_end();
}

void Supervisor::watch_report(const std::shared_ptr<Run>& e) {
  if (!e->report) return;  // its waiter is gone already: waiter_ended read what it reported
  std::weak_ptr<Run> weak = e;
  e->report->start([this, weak](const std::string& text) {
    if (auto e = weak.lock()) waiter_reported_end(e, text);
  });
}

void Supervisor::note_relay(ProcessRecord& r, const std::string& report) {
  if (auto relay = reported_relay(report)) {  // saved with the final record
    r.relay_pid = *relay;
    r.relay_start_ticks = process_start_ticks(*relay);
  }
}

void Supervisor::waiter_reported_end(const std::shared_ptr<Run>& e, const std::string& report) {
  const std::string id = e->rec.id;
  note_relay(e->rec, report);
  // The waiter waits for our word before it exits: its socket and its exit watch are kept
  // apart from the run, which may start again before then.
  hand_over(id, true);  // a waiter of an earlier run of this id: this record replaced its
  if (e->watched == Watched::own_waiter && e->exit_watch && e->rec.waiter_pid)
    reaping_[*e->rec.waiter_pid] = std::move(e->exit_watch);
  unanswered_[id] = std::move(e->report);
  e->exit_watch.reset();
  ended(e, reported_status(report));
  // Restarting, its record holds the last exit as it is: no exit file needed.
  if (!e->rec.ended()) hand_over(id, true);
}

bool Supervisor::hand_over(const std::string& id, bool held) {
  auto it = unanswered_.find(id);
  if (it == unanswered_.end()) return false;
  if (held) it->second->held();
  unanswered_.erase(it);  // not held: the socket's end tells the waiter to write its exit file
  return true;
}

void Supervisor::waiter_ended(const std::shared_ptr<Run>& e) {
  std::string exit_file = paths_.exit_path(e->rec.id);
  std::string report = e->report ? e->report->text() : std::string();
  e->report.reset();
  note_relay(e->rec, report);
  // The report is at hand if the waiter reported before it died; the file is what an
  // adopted waiter (no report socket) leaves, or one whose sbxd went before its answer.
  auto status = reported_status(report);
  if (!status) status = read_exit_status(exit_file);
  if (!status && e->rec.pid) {
    // The waiter was killed: its program became our child (we are the subreaper) when the
    // waiter was ours, and may have ended already; reaping it tells how.
    reap_orphans_now();
    status = e->orphan_status;
  }
  if (!status && e->watched != Watched::program && e->rec.pid &&
      process_alive(*e->rec.pid, e->rec.pid_start_ticks)) {
    // The waiter was killed, the program runs on: it is still running. If it is our child,
    // we reap it and learn its status; else only that it ended.
    spdlog::error("{}: its waiter (pid {}) is gone while the process runs on", e->rec.id,
                  e->rec.waiter_pid.value_or(0));
    return watch_exit(e, Watched::program);
  }
  if (!status && !e->rec.pid) {  // a waiter that ended before it exec'd anything (no 'go')
    fail(e, "sbxd stopped while the process was starting");
    return;
  }
  if (!status) spdlog::error("{}: its waiter ended without telling the exit status", e->rec.id);
  ended(e, status);  // once its final record is durable, the exit file goes
}

void Supervisor::reap_orphans_now() {
  std::string path = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
  auto text = read_file(path);
  if (!text) return;
  const char* p = text->c_str();
  while (*p) {
    char* end = nullptr;
    long pid = std::strtol(p, &end, 10);
    if (end == p) break;
    p = end;
    while (*p == ' ') ++p;
    if (pid <= 1 || waiter_pids_.count(static_cast<pid_t>(pid))) continue;
    std::shared_ptr<Run> e;  // the program of a run whose waiter was lost, or a stranger
    if (auto it = programs_.find(static_cast<pid_t>(pid)); it != programs_.end())
      e = it->second.lock();
    if (e && process_start_ticks(static_cast<pid_t>(pid)) != e->rec.pid_start_ticks) e.reset();
    int status = 0;
    if (::waitpid(static_cast<pid_t>(pid), &status, WNOHANG) == pid && e) e->orphan_status = status;
  }
}

void Supervisor::ended(const std::shared_ptr<Run>& e, std::optional<int> wait_status,
                       const char* unknown) {
  ProcessRecord& r = e->rec;
  if (auto it = r.pid ? programs_.find(*r.pid) : programs_.end();
      it != programs_.end() && it->second.lock() == e)
    programs_.erase(it);
  e->orphan_status.reset();
  tree_.release(r.cgroup);  // removed once its stragglers are gone too
  uncap_logs(e);
  e->timeout_timer.cancel();
  r.end_time = now_epoch_ms();
  r.exit_code.reset();
  r.signal.reset();
  r.reason.reset();
  if (wait_status && WIFEXITED(*wait_status)) {
    r.exit_code = WEXITSTATUS(*wait_status);
    r.status = *r.exit_code == 0 ? ProcStatus::completed : ProcStatus::failed;
  } else if (wait_status && WIFSIGNALED(*wait_status)) {
    r.signal = signal_name(WTERMSIG(*wait_status));
    r.status = ProcStatus::killed;
  } else {
    r.status = ProcStatus::failed;
    r.error = unknown;
  }
  // Ended by sbx on request: killed, with the reason, whatever the program made of the
  // signal (an exit 0 on SIGTERM is still a stop); the real exit code or signal stays.
  // A signal nobody asked sbx for (a crash, the OOM killer) has no reason.
  bool by_asked_signal = wait_status && WIFSIGNALED(*wait_status) &&
                         std::find(e->asked_signals.begin(), e->asked_signals.end(),
                                   WTERMSIG(*wait_status)) != e->asked_signals.end();
  if (e->stop_reason || by_asked_signal) {
    r.status = ProcStatus::killed;
    r.reason = e->stop_reason.value_or("kill");
  }
  e->asked_signals.clear();
  spdlog::info("{} (pid {}) ended: {}{}", r.id, r.pid.value_or(0), status_name(r.status),
               r.exit_code ? " " + std::to_string(*r.exit_code)
               : r.signal  ? " " + *r.signal
                           : "");
  if (should_restart(*e)) {
    transition(*e, PhaseEvent::ended_to_restart);
    return schedule_restart(e);
  }
  transition(*e, PhaseEvent::ended_for_good);
  finalize(e);
}

void Supervisor::finalize(const std::shared_ptr<Run>& e) {
  store_.save(e->rec);
  auto watchers = std::move(e->watchers);
  e->watchers.clear();
  for (auto& [id, fn] : watchers) fn(e->rec);
  check_stop(e);
  maybe_cleanup(e);
}

void Supervisor::maybe_cleanup(const std::shared_ptr<Run>& e) {
  if (!e->rec.auto_cleanup || !e->rec.ended() || e->holds > 0 || !e->stop_done.empty()) return;
  auto it = entries_.find(e->rec.id);
  if (it == entries_.end() || it->second != e) return;
  spdlog::info("{} removed (--rm)", e->rec.id);
  auto now = Clock::now();
  std::erase_if(removed_, [now](const auto& kv) { return now - kv.second.at > kRemovedMemory; });
  removed_[e->rec.id] = Removed{e->rec, now};
  forget(e);
}

Error Supervisor::fail(const std::shared_ptr<Run>& e, const std::string& reason) {
  transition(*e, PhaseEvent::launch_failed);
  e->rec.status = ProcStatus::error;
  e->rec.error = reason;
  e->rec.pid.reset();
  e->rec.end_time = now_epoch_ms();
  tree_.release(e->rec.cgroup);
  spdlog::info("{} could not start: {}", e->rec.id, reason);
  Error err = make_error(Errc::not_started, "'" + e->rec.id + "' could not start: " + reason);
  err.id = e->rec.id;
  finalize(e);
  return err;
}

}  // namespace sbx::daemon
