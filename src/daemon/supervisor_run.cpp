// How a process runs and ends: exit, restart with back-off, timeout, stop of the whole
// tree, and --rm clean-up. How a run is launched is in supervisor_launch.cpp.

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"
#include "common/proc.hpp"
#include "common/signal_names.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/spawn.hpp"
#include "daemon/supervisor_impl.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {

constexpr Millis kTreePollInterval{20};
constexpr Millis kReapAfterKillLimit{1000};

}  // namespace

// Why not Boost.Process's process_handle::async_wait: in Boost 1.81 it answers the pidfd's
// readiness with a blocking waitpid(pid, 0). A readiness event that is not the exit (seen
// under concurrent starts) then blocks the whole daemon in wait4 until that child ends.
// Here readiness is only a hint: waitid(WNOHANG) decides, and a false alarm re-arms.
void Supervisor::Impl::transition(Entry& e, PhaseEvent event) {
  auto next = next_phase(e.phase, event);
  if (!next) {
    spdlog::error("{}: {} cannot happen while {}: ignored", e.rec.id, phase_event_name(event), phase_name(e.phase));
    return;
  }
  e.phase = *next;
}

void Supervisor::Impl::watch_exit(const std::shared_ptr<Entry>& e, Watched what) {
  e->watched = what;
  pid_t waiter = what == Watched::program ? e->rec.pid.value_or(0) : e->rec.waiter_pid.value_or(0);
  bool own_child = what == Watched::own_waiter;
  int fd = waiter > 1 ? static_cast<int>(::syscall(SYS_pidfd_open, waiter, 0)) : -1;  // close-on-exec
  if (fd >= 0 && fd_headroom_gone(fd)) {  // keep the last descriptors for clients
    ::close(fd);
    fd = -1;
    errno = EMFILE;
  }
  if (fd < 0 && waiter > 1 && errno != ESRCH) {  // out of descriptors, say: never block the loop
    if (own_child) leaders.insert(waiter);
    return poll_exit(e, errno);
  }
  if (fd < 0) {
    if (own_child && waiter > 1) ::waitpid(waiter, nullptr, WNOHANG);  // gone already: a zombie to reap
    return waiter_ended(e);
  }
  if (own_child) leaders.insert(waiter);
  e->pidfd = std::make_unique<asio::posix::stream_descriptor>(io, fd);
  arm_exit(e);
}

void Supervisor::Impl::arm_exit(const std::shared_ptr<Entry>& e) {
  std::weak_ptr<Entry> weak = e;
  e->pidfd->async_wait(asio::posix::stream_descriptor::wait_read, [this, weak](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    auto e = weak.lock();
    if (!e || !e->pidfd) return;
    pid_t waiter = e->rec.waiter_pid.value_or(0);
    if (e->watched == Watched::program) {
      reap_orphans_now();  // the program may be our child now, and a zombie
      if (!e->orphan_status && process_alive(e->rec.pid.value_or(0), e->rec.pid_start_ticks)) return arm_exit(e);
    } else if (e->watched == Watched::adopted_waiter) {
      if (process_alive(waiter, e->rec.waiter_start_ticks)) return arm_exit(e);
    } else {
      siginfo_t si{};
      int rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(e->pidfd->native_handle()), &si,
                        WEXITED | WNOHANG);
      if (rc == 0 && si.si_pid == 0) return arm_exit(e);  // not ended: a false alarm
      if (rc != 0) spdlog::error("waitid on the waiter of {} failed: {}", e->rec.id, std::strerror(errno));
      leaders.erase(waiter);
    }
    e->pidfd.reset();
    waiter_ended(e);
  });
}

void Supervisor::Impl::waiter_ended(const std::shared_ptr<Entry>& e) {
  std::string exit_file = paths.exit_path(e->rec.id);
  auto status = read_exit_status(exit_file);
  if (!status) status = read_reported_status(e->report_seen, e->report.get());  // the disk was full, say
  e->report.reset();
  if (!status && e->rec.pid) {
    // The waiter was killed: its program became our child (we are the subreaper) when the
    // waiter was ours, and may have ended already; reaping it tells how.
    reap_orphans_now();
    status = e->orphan_status;
  }
  if (!status && e->watched != Watched::program && e->rec.pid && process_alive(*e->rec.pid, e->rec.pid_start_ticks)) {
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
  ended(e, status);  // its final save removes the exit file
}

void Supervisor::Impl::cap_logs(const std::shared_ptr<Entry>& e) {
  if (e->rec.log_max <= 0 || !e->caps.empty()) return;
  for (bool is_err : {false, true}) {
    std::weak_ptr<Entry> weak = e;
    e->caps.push_back(log_cap.add(paths.log_path(e->rec.id, is_err), e->rec.log_max, [this, weak, is_err](const Trimmed& t) {
      auto e = weak.lock();
      if (!e) return;
      (is_err ? e->rec.dropped_stderr : e->rec.dropped_stdout) += t.removed;
      save(e->rec);
      auto fns = e->trim_watchers;  // a watcher may unwatch
      for (auto& [w, fn] : fns) fn(is_err ? 2 : 1, t);
    }));
  }
}

void Supervisor::Impl::uncap_logs(const std::shared_ptr<Entry>& e) {
  for (auto id : e->caps) {
    log_cap.check_now(id);  // what it wrote last
    log_cap.remove(id);
  }
  e->caps.clear();
}

void Supervisor::Impl::ended(const std::shared_ptr<Entry>& e, std::optional<int> wait_status, const char* unknown) {
  ProcessRecord& r = e->rec;
  if (auto it = r.pid ? programs.find(*r.pid) : programs.end(); it != programs.end() && it->second.lock() == e)
    programs.erase(it);
  e->orphan_status.reset();
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
                         std::find(e->asked_signals.begin(), e->asked_signals.end(), WTERMSIG(*wait_status)) !=
                             e->asked_signals.end();
  if (e->stop_reason || by_asked_signal) {
    r.status = ProcStatus::killed;
    r.reason = e->stop_reason.value_or("kill");
  }
  e->asked_signals.clear();
  spdlog::info("{} (pid {}) ended: {}{}", r.id, r.pid.value_or(0), status_name(r.status),
               r.exit_code ? " " + std::to_string(*r.exit_code) : r.signal ? " " + *r.signal : "");
  if (should_restart(*e)) {
    transition(*e, PhaseEvent::ended_to_restart);
    return schedule_restart(e);
  }
  transition(*e, PhaseEvent::ended_for_good);
  finalize(e);
}

bool Supervisor::Impl::should_restart(const Entry& e) const {
  const ProcessRecord& r = e.rec;
  if (e.phase == Phase::stopping || e.watched != Watched::own_waiter) return false;
  if (r.max_restarts && r.restarts >= *r.max_restarts) return false;
  if (r.restart == "always") return true;
  return r.restart == "on-failure" && r.status != ProcStatus::completed;
}

void Supervisor::Impl::schedule_restart(const std::shared_ptr<Entry>& e) {
  ProcessRecord& r = e->rec;
  e->last_status = r.status;
  if (Clock::now() - e->run_started >= kHealthyRun) e->backoff = kFirstBackoff;
  Millis delay = e->backoff;
  e->backoff = std::min(e->backoff * 2, kMaxBackoff);
  r.status = ProcStatus::starting;  // it will start again; the last exit stays in the record
  r.pid.reset();
  r.waiter_pid.reset();  // gone: a record starting without a waiter is not adopted
  r.waiter_start_ticks.reset();
  save(r);
  spdlog::info("{} restarts in {}", r.id, format_duration(delay));
  std::weak_ptr<Entry> weak = e;
  e->restart_timer = timers.start(delay, [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    if (frozen) return;  // detaching: the record says starting, as it was
    transition(*e, PhaseEvent::restart_due);
    e->rec.restarts++;
    auto could_not = [this, weak](Status st) {
      auto e = weak.lock();
      if (!e || st) return;
      transition(*e, PhaseEvent::launch_failed);
      e->rec.status = ProcStatus::error;
      e->rec.error = st.error().message;
      e->rec.end_time = now_epoch_ms();
      spdlog::info("{} could not restart: {}", e->rec.id, st.error().message);
      finalize(e);
    };
    if (auto launching = launch(e, false, could_not); !launching) could_not(launching);
  });
}

void Supervisor::Impl::finalize(const std::shared_ptr<Entry>& e) {
  save(e->rec);
  auto watchers = std::move(e->watchers);
  e->watchers.clear();
  for (auto& [id, fn] : watchers) fn(e->rec);
  check_stop(e);
  maybe_cleanup(e);
}

void Supervisor::Impl::begin_stop(const std::shared_ptr<Entry>& e, int sig, Millis grace, const std::string& reason,
                                   std::function<void()> done) {
  // Even without a caller waiting (a --timeout), the stop goes on until the tree is gone.
  e->stop_done.push_back(done ? std::move(done) : [] {});
  Phase from = e->phase;
  transition(*e, PhaseEvent::stop_asked);
  switch (from) {
    case Phase::launching: {  // no pid yet: stop it the moment it has one (or end with its failure)
      bool kill_asked = e->stop_when_launched && e->stop_when_launched->sig == SIGKILL;
      if (!kill_asked) e->stop_when_launched = Entry::PendingStop{sig, grace, reason};
      return;
    }
    case Phase::backoff:  // between two runs: nothing runs, the last run's end is final
      e->restart_timer.cancel();
      e->rec.status = e->last_status;
      finalize(e);
      return;
    case Phase::running:
    case Phase::stopping:
    case Phase::ended:
      break;
  }
  bool leader_live = !e->rec.ended();
  if (!e->rec.pid && e->rec.ended()) return check_stop(e);
  if (leader_live && !e->stop_reason) e->stop_reason = reason;  // the first stop's reason stands
  if (leader_live || tree_alive(e->rec)) {
    signal_tree(e->rec, sig);  // without a pid (adopted while starting): by its token
    if (sig == SIGKILL) e->kill_sent_at = Clock::now();
  }
  if (!e->kill_timer.pending() && !e->kill_sent_at) {
    std::weak_ptr<Entry> weak = e;
    e->kill_timer = timers.start(grace, [this, weak] {
      auto e = weak.lock();
      if (!e) return;
      spdlog::info("{} outlived its grace: SIGKILL to its tree", e->rec.id);
      signal_tree(e->rec, SIGKILL);
      e->kill_sent_at = Clock::now();
      check_stop(e);
    });
  }
  check_stop(e);
}

void Supervisor::Impl::check_stop(const std::shared_ptr<Entry>& e) {
  if (!e->rec.ended()) return;
  bool gave_up = e->kill_sent_at && Clock::now() - *e->kill_sent_at > kReapAfterKillLimit;
  if (!e->stop_done.empty() && !gave_up && tree_alive(e->rec)) {
    if (!e->poll_timer.pending()) {
      std::weak_ptr<Entry> weak = e;
      e->poll_timer = timers.start(kTreePollInterval, [this, weak] {
        if (auto e = weak.lock()) {
          reap_orphans_now();
          check_stop(e);
        }
      });
    }
    return;
  }
  e->kill_timer.cancel();
  e->poll_timer.cancel();
  transition(*e, PhaseEvent::tree_gone);
  auto done = std::move(e->stop_done);
  e->stop_done.clear();
  for (auto& fn : done) fn();
  maybe_cleanup(e);
}

void Supervisor::Impl::maybe_cleanup(const std::shared_ptr<Entry>& e) {
  if (!e->rec.auto_cleanup || !e->rec.ended() || e->holds > 0 || !e->stop_done.empty()) return;
  auto it = entries.find(e->rec.id);
  if (it == entries.end() || it->second != e) return;
  spdlog::info("{} removed (--rm)", e->rec.id);
  auto now = Clock::now();
  std::erase_if(removed, [now](const auto& kv) { return now - kv.second.at > kRemovedMemory; });
  removed[e->rec.id] = Removed{e->rec, now};
  forget(e);
}

void Supervisor::Impl::reap_orphans_now() {
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
    if (pid <= 1 || leaders.count(static_cast<pid_t>(pid))) continue;
    std::shared_ptr<Entry> e;  // the program of a run whose waiter was lost, or a stranger
    if (auto it = programs.find(static_cast<pid_t>(pid)); it != programs.end()) e = it->second.lock();
    if (e && process_start_ticks(static_cast<pid_t>(pid)) != e->rec.pid_start_ticks) e.reset();
    int status = 0;
    if (::waitpid(static_cast<pid_t>(pid), &status, WNOHANG) == pid && e) e->orphan_status = status;
  }
}

Error Supervisor::Impl::fail(const std::shared_ptr<Entry>& e, const std::string& reason) {
  transition(*e, PhaseEvent::launch_failed);
  e->rec.status = ProcStatus::error;
  e->rec.error = reason;
  e->rec.pid.reset();
  e->rec.end_time = now_epoch_ms();
  spdlog::info("{} could not start: {}", e->rec.id, reason);
  Error err = make_error(Errc::failed, "'" + e->rec.id + "' could not start: " + reason);
  finalize(e);
  return err;
}

}  // namespace sbx::daemon
