// Launching a run. The waiter is spawned held: it starts the program only once the run's
// record, naming the waiter's pid, is on disk. So a record never misses a run that may have
// started: a daemon that dies before the exec is reported leaves a record by which the next
// one adopts the run (adopt_launch), and a record that cannot be written starts nothing.
// Two record writes per start: that one, and the one with the program's pid.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"
#include "common/proc.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/spawn.hpp"
#include "daemon/supervisor_impl.hpp"
#include "shim/protocol.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

Status Supervisor::Impl::launch(const std::shared_ptr<Entry>& e, bool first_run, std::function<void(Status)> done) {
  ProcessRecord& r = e->rec;
  // Later runs append, so `logs` keeps the output of every run in order. A first run empties
  // them once its record is written: a start refused for want of a record leaves them as they were.
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  UniqueFd out(::open(paths.log_path(r.id, false).c_str(), flags, 0600));
  UniqueFd err(::open(paths.log_path(r.id, true).c_str(), flags, 0600));
  if (!out || !err) {
    int why = errno;
    done(make_error(Errc::failed, out_of_fds(why) ? out_of_fds_message("start a process")
                                                 : std::string("cannot open its log files: ") + std::strerror(why)));
    return ok_status();
  }
  // Each live process holds two descriptors: a start that would leave too few for clients
  // is refused, so that ps, kill and followers are still served.
  if (fd_headroom_gone(std::max(out.get(), err.get()))) {
    done(make_error(Errc::failed, out_of_fds_message("start a process")));
    return ok_status();
  }

  SpawnRequest req;
  req.waiter = waiter_path;
  req.exit_file = paths.exit_path(r.id);
  req.program = e->program;
  req.argv = r.argv;
  r.run_token = new_run_token();
  req.envp = e->envp;
  req.run_env = std::string(kRunTokenVar) + "=" + r.run_token;  // not the waiter's: it is never killed
  req.cwd = r.cwd;
  req.fd_limit = program_fd_limit();
  req.stdin_fd = dev_null.get();
  req.stdout_fd = out.get();
  req.stderr_fd = err.get();
  auto spawned = spawn_waiter(req);
  if (!spawned) {
    done(spawned.error());
    return ok_status();
  }

  pid_t waiter = spawned->waiter;
  r.waiter_pid = waiter;
  r.waiter_start_ticks = process_start_ticks(waiter);
  r.boot_id = boot_id;
  r.pid.reset();
  r.status = ProcStatus::starting;
  if (auto saved = store.save_once(r); !saved) {
    ::kill(waiter, SIGKILL);  // held before the fork: nothing of the run was started
    ::waitpid(waiter, nullptr, 0);
    r.waiter_pid.reset();
    r.waiter_start_ticks.reset();
    return make_error(Errc::failed, "cannot record '" + r.id + "' before starting it: " + saved.error().message);
  }
  if (first_run && (::ftruncate(out.get(), 0) != 0 || ::ftruncate(err.get(), 0) != 0)) {
    spdlog::warn("{}: cannot empty its logs: {}", r.id, std::strerror(errno));
  }
  ::unlink(req.exit_file.c_str());
  // The waiter is our child from now on: the SIGCHLD sweep must leave it to us.
  waiter_pids.insert(waiter);
  release_waiter(spawned->report.get());  // a waiter already gone says so: its report ends at once
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
  e->launch_report = std::make_unique<asio::posix::stream_descriptor>(io, spawned->report.release());
  ++launches;
  std::weak_ptr<Entry> weak = e;
  e->launch_timer = timers.start(kLaunchReportLimit, [this, weak] {
    auto e = weak.lock();
    if (!e || e->phase != Phase::launching || !e->launch_report) return;
    spdlog::error("{}: its waiter (pid {}) did not report within {}; killing it", e->rec.id,
                  e->rec.waiter_pid.value_or(0), format_duration(kLaunchReportLimit));
    e->launch_line.clear();  // whatever it said, it is killed
    launch_reported(e, make_error(Errc::failed, "the waiter sbx-shim did not report within " +
                                                    format_duration(kLaunchReportLimit)));
  });
  read_launch_report(e);
  return ok_status();
}

void Supervisor::Impl::read_launch_report(const std::shared_ptr<Entry>& e) {
  std::weak_ptr<Entry> weak = e;
  e->launch_report->async_wait(asio::posix::stream_descriptor::wait_read, [this, weak](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    auto e = weak.lock();
    if (!e || e->phase != Phase::launching || !e->launch_report) return;
    char buf[256];
    for (;;) {
      ssize_t n = ::read(e->launch_report->native_handle(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return read_launch_report(e);
      if (n <= 0) break;  // the waiter is gone without a full line
      e->launch_line.append(buf, static_cast<size_t>(n));
      if (auto nl = e->launch_line.find('\n'); nl != std::string::npos) {
        e->report_seen = e->launch_line.substr(nl + 1);  // the start of "exit STATUS", if it is quick
        e->launch_line.resize(nl);
        return launch_reported(e, parse_launch_report(e->launch_line, [&e] {
          auto envp = e->envp;
          envp.push_back(std::string(kRunTokenVar) + "=" + e->rec.run_token);
          return exec_too_large(e->rec.argv, envp);
        }));
      }
      if (e->launch_line.size() > 128) break;
    }
    launch_reported(e, parse_launch_report(""));
  });
}

void Supervisor::Impl::launch_reported(const std::shared_ptr<Entry>& e, Result<pid_t> pid) {
  ProcessRecord& r = e->rec;
  e->launch_timer.cancel();
  int report_fd = e->launch_report->release();
  e->launch_report.reset();
  auto done = std::move(e->launched);
  e->launched = nullptr;
  pid_t waiter = r.waiter_pid.value_or(0);
  if (!pid) {
    ::close(report_fd);
    // A waiter that reported a failure exits at once; one that did not report is killed
    // (our unreaped child: the pid is its own). Either way reaping takes an instant.
    if (!waiter::is_err(e->launch_line.c_str())) ::kill(waiter, SIGKILL);
    ::waitpid(waiter, nullptr, 0);
    waiter_pids.erase(waiter);
    r.waiter_pid.reset();
    r.waiter_start_ticks.reset();
    e->stop_when_launched.reset();
    e->signals_when_launched.clear();
    launch_finished();
    done(make_error(Errc::failed, pid.error().message));
    return;
  }
  e->report.reset(report_fd);
  transition(*e, PhaseEvent::exec_reported);
  r.pid = *pid;
  r.pid_start_ticks = process_start_ticks(*pid);
  programs[*pid] = e;
  e->asked_signals.clear();
  r.status = ProcStatus::running;
  r.start_time = now_epoch_ms();
  r.end_time.reset();
  e->run_started = Clock::now();
  watch_exit(e, Watched::own_waiter);
  cap_logs(e);
  if (r.timeout_ms) {
    std::weak_ptr<Entry> weak = e;
    e->timeout_timer = timers.start(Millis(*r.timeout_ms), [this, weak] {
      auto e = weak.lock();
      if (!e || e->rec.ended()) return;
      spdlog::info("{} ran for its timeout of {}: stopping it", e->rec.id, format_duration(Millis(*e->rec.timeout_ms)));
      begin_stop(e, SIGTERM, kStopGrace, "timeout", nullptr);
    });
  }
  store.save(r);
  launch_finished();
  done(ok_status());
  // What was asked while it was being launched, now that it has a pid and a group.
  auto signals = std::move(e->signals_when_launched);
  e->signals_when_launched.clear();
  for (int sig : signals) signal_run(e, sig);
  if (auto stop = e->stop_when_launched) {
    e->stop_when_launched.reset();
    begin_stop(e, stop->sig, stop->grace, stop->reason, nullptr);
  }
}

void Supervisor::Impl::cap_logs(const std::shared_ptr<Entry>& e) {
  if (e->rec.log_max <= 0 || !e->caps.empty()) return;
  for (bool is_err : {false, true}) {
    std::weak_ptr<Entry> weak = e;
    e->caps.push_back(log_cap.add(paths.log_path(e->rec.id, is_err), e->rec.log_max, [this, weak, is_err](const Trimmed& t) {
      auto e = weak.lock();
      if (!e) return;
      (is_err ? e->rec.dropped_stderr : e->rec.dropped_stdout) += t.removed;
      store.save(e->rec);
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

void Supervisor::Impl::launch_finished() {
  if (--launches > 0) return;
  auto fns = std::move(when_no_launches);
  when_no_launches.clear();
  for (auto& fn : fns) fn();
}

}  // namespace sbx::daemon
