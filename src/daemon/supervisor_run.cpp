// How a process runs and ends: launch, exit, restart with back-off, timeout, stop of the
// whole tree, and --rm clean-up.

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
#include "daemon/spawn.hpp"
#include "daemon/supervisor_impl.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {

constexpr Millis kTreePollInterval{20};
constexpr Millis kReapAfterKillLimit{1000};

/// kill(2) on a process group, only for a group sbx created: a pgid of 0, 1 or below would
/// signal the daemon's own group, init, or every process we may signal.
void kill_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

}  // namespace

std::vector<pid_t> Supervisor::Impl::run_processes(const ProcessRecord& r) {
  std::vector<pid_t> out;
  if (r.run_token.empty()) return out;
  if (Clock::now() - token_scan_at > kTokenScanTtl) {
    token_scan = scan_run_tokens();
    token_scan_at = Clock::now();  // after the scan: a slow scan must not expire at once
  }
  for (const auto& [pid, token] : token_scan) {
    if (token == r.run_token && pid != r.waiter_pid.value_or(0)) out.push_back(pid);
  }
  return out;
}

/// Signals a process's whole tree: its process group, and every process of the run that
/// left the group (setsid, a double fork) but still carries its SBX_RUN_TOKEN. Once the
/// leader is reaped its pgid could in principle be recycled, so from then on only
/// processes that carry the token are signalled. The waiter is never signalled.
void Supervisor::Impl::signal_tree(const ProcessRecord& r, int sig) {
  pid_t pgid = r.pid.value_or(0);
  bool leader_live = !r.ended();
  if (leader_live) kill_group(pgid, sig);
  for (pid_t p : run_processes(r)) {
    if (p > 1 && !(leader_live && ::getpgid(p) == pgid)) ::kill(p, sig);
  }
}

bool Supervisor::Impl::tree_alive(const ProcessRecord& r) {
  // The group answers cheaply while it has members; only an empty group needs the scan
  // for members that left it.
  if (group_alive(r.pid.value_or(0))) return true;
  return !run_processes(r).empty();
}

void Supervisor::Impl::launch(const std::shared_ptr<Entry>& e, bool first_run, std::function<void(Status)> done) {
  ProcessRecord& r = e->rec;
  // Later runs append, so `logs` keeps the output of every run in order.
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (first_run ? O_TRUNC : 0);
  UniqueFd out(::open(paths.log_path(r.id, false).c_str(), flags, 0600));
  UniqueFd err(::open(paths.log_path(r.id, true).c_str(), flags, 0600));
  if (!out || !err) return done(make_error(Errc::failed, std::string("cannot open its log files: ") + std::strerror(errno)));

  SpawnRequest req;
  req.waiter = waiter_path;
  req.exit_file = paths.exit_path(r.id);
  ::unlink(req.exit_file.c_str());
  req.program = e->program;
  req.argv = r.argv;
  r.run_token = new_run_token();
  req.envp = e->envp;
  req.run_env = std::string(kRunTokenVar) + "=" + r.run_token;  // not the waiter's: it is never killed
  req.cwd = r.cwd;
  req.stdin_fd = dev_null.get();
  req.stdout_fd = out.get();
  req.stderr_fd = err.get();
  auto spawned = spawn_waiter(req);
  if (!spawned) return done(make_error(Errc::failed, "cannot exec " + e->program + ": " + spawned.error().message));

  // The waiter is our child from now on: the SIGCHLD sweep must leave it to us.
  leaders.insert(spawned->waiter);
  r.waiter_pid = spawned->waiter;
  r.waiter_start_ticks = process_start_ticks(spawned->waiter);
  r.pid.reset();
  r.status = ProcStatus::starting;
  e->report.reset();
  e->report_seen.clear();
  e->launch_line.clear();
  e->launched = [this, weak = std::weak_ptr<Entry>(e), first_run, done = std::move(done)](Status st) {
    if (auto e = weak.lock(); e && st) {
      spdlog::info("{} {} (pid {}): {}", first_run ? "started" : "restarted", e->rec.id, e->rec.pid.value_or(0),
                   e->rec.command);
    }
    done(st);
  };
  e->launching = std::make_unique<asio::posix::stream_descriptor>(io, spawned->report.release());
  ++launches;
  std::weak_ptr<Entry> weak = e;
  e->launch_timer = timers.after(kLaunchReportLimit, [this, weak] {
    auto e = weak.lock();
    if (!e || !e->launching) return;
    e->launch_timer = 0;
    spdlog::error("{}: its waiter (pid {}) did not report within {}; killing it", e->rec.id,
                  e->rec.waiter_pid.value_or(0), format_duration(kLaunchReportLimit));
    e->launch_line.clear();  // whatever it said, it is killed
    launch_reported(e, make_error(Errc::failed, "the waiter sbx-shim did not report within " +
                                                    format_duration(kLaunchReportLimit)));
  });
  read_launch_report(e);
}

void Supervisor::Impl::read_launch_report(const std::shared_ptr<Entry>& e) {
  std::weak_ptr<Entry> weak = e;
  e->launching->async_wait(asio::posix::stream_descriptor::wait_read, [this, weak](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    auto e = weak.lock();
    if (!e || !e->launching) return;
    char buf[256];
    for (;;) {
      ssize_t n = ::read(e->launching->native_handle(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return read_launch_report(e);
      if (n <= 0) break;  // the waiter is gone without a full line
      e->launch_line.append(buf, static_cast<size_t>(n));
      if (auto nl = e->launch_line.find('\n'); nl != std::string::npos) {
        e->report_seen = e->launch_line.substr(nl + 1);  // the start of "exit STATUS", if it is quick
        e->launch_line.resize(nl);
        return launch_reported(e, parse_launch_report(e->launch_line));
      }
      if (e->launch_line.size() > 128) break;
    }
    launch_reported(e, parse_launch_report(""));
  });
}

void Supervisor::Impl::launch_reported(const std::shared_ptr<Entry>& e, Result<pid_t> pid) {
  ProcessRecord& r = e->rec;
  timers.cancel(e->launch_timer);
  e->launch_timer = 0;
  int report_fd = e->launching->release();
  e->launching.reset();
  auto done = std::move(e->launched);
  e->launched = nullptr;
  pid_t waiter = r.waiter_pid.value_or(0);
  if (!pid) {
    ::close(report_fd);
    // A waiter that reported a failure exits at once; one that did not report is killed
    // (our unreaped child: the pid is its own). Either way reaping takes an instant.
    if (!e->launch_line.starts_with("err ")) ::kill(waiter, SIGKILL);
    ::waitpid(waiter, nullptr, 0);
    leaders.erase(waiter);
    r.waiter_pid.reset();
    r.waiter_start_ticks.reset();
    e->stop_when_launched.reset();
    e->signals_when_launched.clear();
    launch_finished();
    done(make_error(Errc::failed, pid.error().message));
    return;
  }
  e->report.reset(report_fd);
  r.pid = *pid;
  r.pid_start_ticks = process_start_ticks(*pid);
  r.status = ProcStatus::running;
  r.start_time = now_epoch_ms();
  r.end_time.reset();
  e->run_started = Clock::now();
  watch_exit(e, true);
  cap_logs(e);
  if (r.timeout_ms) {
    std::weak_ptr<Entry> weak = e;
    e->timeout_timer = timers.after(Millis(*r.timeout_ms), [this, weak] {
      auto e = weak.lock();
      if (!e || e->rec.ended()) return;
      e->timeout_timer = 0;
      e->timed_out = true;
      spdlog::info("{} ran for its timeout of {}: stopping it", e->rec.id, format_duration(Millis(*e->rec.timeout_ms)));
      begin_stop(e, SIGTERM, kStopGrace, nullptr);
    });
  }
  save(r);
  launch_finished();
  done(ok_status());
  // What was asked while it was being launched, now that it has a pid and a group.
  auto signals = std::move(e->signals_when_launched);
  e->signals_when_launched.clear();
  for (int sig : signals) signal_tree(e->rec, sig);
  if (auto stop = e->stop_when_launched) {
    e->stop_when_launched.reset();
    begin_stop(e, stop->first, stop->second, nullptr);
  }
}

void Supervisor::Impl::launch_finished() {
  if (--launches > 0) return;
  auto fns = std::move(when_no_launches);
  when_no_launches.clear();
  for (auto& fn : fns) fn();
}

namespace {

/// The wait status the waiter wrote, if it got to write one.
std::optional<int> read_exit_status(const std::string& path) {
  auto text = read_file(path);
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

// Why not Boost.Process's process_handle::async_wait: in Boost 1.81 it answers the pidfd's
// readiness with a blocking waitpid(pid, 0). A readiness event that is not the exit (seen
// under concurrent starts) then blocks the whole daemon in wait4 until that child ends.
// Here readiness is only a hint: waitid(WNOHANG) decides, and a false alarm re-arms.
void Supervisor::Impl::watch_exit(const std::shared_ptr<Entry>& e, bool own_child) {
  pid_t waiter = e->orphaned ? e->rec.pid.value_or(0) : e->rec.waiter_pid.value_or(0);
  e->own_child = own_child;
  int fd = waiter > 1 ? static_cast<int>(::syscall(SYS_pidfd_open, waiter, 0)) : -1;  // close-on-exec
  if (fd < 0) {
    if (own_child && waiter > 1) ::waitpid(waiter, nullptr, 0);  // gone already: a zombie to reap
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
    if (e->orphaned) {
      if (process_alive(e->rec.pid.value_or(0), e->rec.pid_start_ticks)) return arm_exit(e);
    } else if (!e->own_child) {
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
  if (!status && !e->orphaned && e->rec.pid && process_alive(*e->rec.pid, e->rec.pid_start_ticks)) {
    // The waiter was killed, the program runs on: it is still running, whatever we can
    // learn of its end later (only that it ended).
    spdlog::error("{}: its waiter (pid {}) is gone while the process runs on; its exit status will be unknown",
                  e->rec.id, e->rec.waiter_pid.value_or(0));
    e->orphaned = true;
    return watch_exit(e, false);
  }
  if (!status) spdlog::error("{}: its waiter ended without telling the exit status", e->rec.id);
  ended(e, status);
  ::unlink(exit_file.c_str());  // the record, saved by now, holds it
}

void Supervisor::Impl::cap_logs(const std::shared_ptr<Entry>& e) {
  if (e->rec.log_max <= 0 || !e->caps.empty()) return;
  for (bool is_err : {false, true}) {
    std::weak_ptr<Entry> weak = e;
    e->caps.push_back(log_cap.add(paths.log_path(e->rec.id, is_err), e->rec.log_max, [this, weak, is_err](const Trimmed& t) {
      auto e = weak.lock();
      if (!e) return;
      (is_err ? e->rec.dropped_stderr : e->rec.dropped_stdout) += t.removed;
      if (t.shifted) (is_err ? e->rec.collapsed_stderr : e->rec.collapsed_stdout) += t.removed;
      save(e->rec);
      auto fns = e->trim_watchers;  // a watcher may unwatch
      for (auto& [w, fn] : fns) fn(is_err ? 2 : 1, t.removed, t.shifted);
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

void Supervisor::Impl::ended(const std::shared_ptr<Entry>& e, std::optional<int> wait_status) {
  ProcessRecord& r = e->rec;
  uncap_logs(e);
  timers.cancel(e->timeout_timer);
  e->timeout_timer = 0;
  r.end_time = now_epoch_ms();
  r.exit_code.reset();
  r.signal.reset();
  if (wait_status && WIFEXITED(*wait_status)) {
    r.exit_code = WEXITSTATUS(*wait_status);
    r.status = *r.exit_code == 0 ? ProcStatus::completed : ProcStatus::failed;
  } else if (wait_status && WIFSIGNALED(*wait_status)) {
    r.signal = signal_name(WTERMSIG(*wait_status));
    r.status = ProcStatus::killed;
  } else {
    r.status = ProcStatus::failed;
    r.error = "exit status unknown: its waiter (sbx-shim) was killed before the process ended";
  }
  if (e->timed_out) {
    r.status = ProcStatus::killed;
    r.reason = "timeout";
  }
  spdlog::info("{} (pid {}) ended: {}{}", r.id, r.pid.value_or(0), status_name(r.status),
               r.exit_code ? " " + std::to_string(*r.exit_code) : r.signal ? " " + *r.signal : "");
  if (should_restart(*e)) return schedule_restart(e);
  finalize(e);
}

bool Supervisor::Impl::should_restart(const Entry& e) const {
  const ProcessRecord& r = e.rec;
  if (e.stop_requested || e.timed_out || !e.own_child) return false;
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
  save(r);
  spdlog::info("{} restarts in {}", r.id, format_duration(delay));
  std::weak_ptr<Entry> weak = e;
  e->restart_timer = timers.after(delay, [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    e->restart_timer = 0;
    if (frozen) return;  // detaching: the record says starting, as it was
    e->rec.restarts++;
    launch(e, false, [this, weak](Status st) {
      auto e = weak.lock();
      if (!e || st) return;
      e->rec.status = ProcStatus::error;
      e->rec.error = st.error().message;
      e->rec.end_time = now_epoch_ms();
      spdlog::info("{} could not restart: {}", e->rec.id, st.error().message);
      finalize(e);
    });
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

void Supervisor::Impl::begin_stop(const std::shared_ptr<Entry>& e, int sig, Millis grace, std::function<void()> done) {
  e->stop_requested = true;
  // Even without a caller waiting (a --timeout), the stop goes on until the tree is gone.
  e->stop_done.push_back(done ? std::move(done) : [] {});
  if (e->launching) {  // no pid yet: stop it the moment it has one (or end with its failure)
    bool kill_asked = e->stop_when_launched && e->stop_when_launched->first == SIGKILL;
    if (!kill_asked) e->stop_when_launched = std::make_pair(sig, grace);
    return;
  }
  if (e->restart_timer) {  // between two runs: nothing runs, the last run's end is final
    timers.cancel(e->restart_timer);
    e->restart_timer = 0;
    e->rec.status = e->last_status;
    finalize(e);
    return;
  }
  bool leader_live = !e->rec.ended();
  if (!e->rec.pid) return check_stop(e);
  if (leader_live || tree_alive(e->rec)) {
    signal_tree(e->rec, sig);
    if (sig == SIGKILL) {
      e->sent_kill = true;
      e->kill_sent_at = Clock::now();
    }
  }
  if (!e->kill_timer && !e->sent_kill) {
    std::weak_ptr<Entry> weak = e;
    e->kill_timer = timers.after(grace, [this, weak] {
      auto e = weak.lock();
      if (!e) return;
      e->kill_timer = 0;
      spdlog::info("{} outlived its grace: SIGKILL to its tree", e->rec.id);
      signal_tree(e->rec, SIGKILL);
      e->sent_kill = true;
      e->kill_sent_at = Clock::now();
      check_stop(e);
    });
  }
  check_stop(e);
}

void Supervisor::Impl::check_stop(const std::shared_ptr<Entry>& e) {
  if (!e->rec.ended()) return;
  bool gave_up = e->sent_kill && Clock::now() - e->kill_sent_at > kReapAfterKillLimit;
  if (!e->stop_done.empty() && !gave_up && tree_alive(e->rec)) {
    if (!e->poll_timer) {
      std::weak_ptr<Entry> weak = e;
      e->poll_timer = timers.after(kTreePollInterval, [this, weak] {
        if (auto e = weak.lock()) {
          e->poll_timer = 0;
          reap_orphans_now();
          check_stop(e);
        }
      });
    }
    return;
  }
  timers.cancel(e->kill_timer);
  timers.cancel(e->poll_timer);
  e->kill_timer = e->poll_timer = 0;
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
    if (pid > 1 && !leaders.count(static_cast<pid_t>(pid))) ::waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG);
  }
}

Error Supervisor::Impl::fail(const std::shared_ptr<Entry>& e, const std::string& reason) {
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
