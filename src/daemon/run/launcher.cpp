// Two record writes per start: the one before the program starts (here), and the one with
// the program's pid (the supervisor's, once `done` has it).

#include "daemon/run/launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>

#include "common/proc.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/run/run_as.hpp"
#include "daemon/run/spawn.hpp"
#include "shim/protocol.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {
/// Empties a log for a first run. One that is empty already (a new record's) is left alone:
/// ext4 (auto_da_alloc) writes back, at its last close, a file truncated to nothing, which
/// would be an I/O at the end of every run.
bool empty_log(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size == 0) return true;
  return ::ftruncate(fd, 0) == 0;
}
}  // namespace

struct Launcher::Pending::State : std::enable_shared_from_this<State> {
  std::unordered_set<pid_t>& waiter_pids;
  SpareWaiter& spare;
  ProcessRecord& rec;
  std::vector<std::string> envp;  ///< the program's, for the reason of an E2BIG
  std::unique_ptr<asio::posix::stream_descriptor> report;
  Timers::Timer time_limit;
  std::string line;
  Done done;
  EpochMs released = 0;

  State(std::unordered_set<pid_t>& w, SpareWaiter& sp, ProcessRecord& r, std::vector<std::string> e,
        Done d)
      : waiter_pids(w), spare(sp), rec(r), envp(std::move(e)), done(std::move(d)) {}

  void read() {
    std::weak_ptr<State> weak = shared_from_this();
    report->async_wait(
        asio::posix::stream_descriptor::wait_read, [weak](boost::system::error_code ec) {
          if (ec == asio::error::operation_aborted) return;
          auto s = weak.lock();
          if (!s || !s->report || !s->done) return;
          char buf[256];
          for (;;) {
            ssize_t n = ::read(s->report->native_handle(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return s->read();
            if (n <= 0) break;  // the waiter is gone without a full line
            s->line.append(buf, static_cast<size_t>(n));
            if (auto nl = s->line.find('\n'); nl != std::string::npos) {
              std::string seen =
                  s->line.substr(nl + 1);  // the start of "exit STATUS", if it is quick
              s->line.resize(nl);
              return s->reported(parse_launch_report(s->line,
                                                     [&s] {
                                                       auto envp = s->envp;
                                                       envp.push_back(std::string(kRunTokenVar) +
                                                                      "=" + s->rec.run_token);
                                                       return exec_too_large(s->rec.argv, envp);
                                                     }),
                                 std::move(seen));
            }
            if (s->line.size() > 128) break;
          }
          s->reported(parse_launch_report(""), "");
        });
  }

  void reported(Result<pid_t> pid, std::string seen) {
    time_limit.cancel();
    UniqueFd fd(report->release());
    report.reset();
    auto fn = std::move(done);
    done = nullptr;
    if (!pid) {
      fd.reset();
      // A waiter that reported a failure exits at once; one that did not report is killed
      // (our unreaped child: the pid is its own). Either way reaping takes an instant.
      pid_t waiter = rec.waiter_pid.value_or(0);
      if (!waiter::is_err(line.c_str())) ::kill(waiter, SIGKILL);
      ::waitpid(waiter, nullptr, 0);
      waiter_pids.erase(waiter);
      rec.waiter_pid.reset();
      rec.waiter_start_ticks.reset();
      fn(make_error(Errc::failed, pid.error().message));
    } else {
      fn(Exec{*pid, std::move(fd), std::move(seen), released});
    }
    spare.refill();  // for the next start, now that this one has its answer
  }
};

Launcher::Pending::~Pending() {
  state_->done = nullptr;
  state_->time_limit.cancel();
  state_->report.reset();
}

Launcher::Launcher(asio::io_context& io, Timers& timers, const Paths& paths, RecordStore& store,
                   std::unordered_set<pid_t>& waiter_pids, std::string boot_id)
    : io_(io),
      timers_(timers),
      paths_(paths),
      store_(store),
      waiter_pids_(waiter_pids),
      boot_id_(std::move(boot_id)),
      waiter_path_(find_waiter()),
      spare_(waiter_path_, timers, store.pool()),
      dev_null_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

Launcher::~Launcher() = default;

Status Launcher::launch(ProcessRecord& r, const std::string& program,
                        const std::vector<std::string>& envp, bool first_run, Done done,
                        std::unique_ptr<Pending>& pending) {
  pending.reset();
  // Later runs append, so `logs` keeps the output of every run in order. A first run empties
  // them once its record is written: a start refused for want of a record leaves them as they were.
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  FilePool& pool = store_.pool();  // a new record's logs are the pool's
  UniqueFd out(pool.open(paths_.log_path(r.id, false), flags, 0600));
  UniqueFd err(pool.open(paths_.log_path(r.id, true), flags, 0600));
  // Read too: where the last run's entries end (read_log_ends).
  UniqueFd index(pool.open(paths_.index_path(r.id), (flags & ~O_WRONLY) | O_RDWR, 0600));
  if (!out || !err || !index) {
    int why = errno;
    done(make_error(Errc::failed, out_of_fds(why) ? out_of_fds_message("start a process")
                                                  : std::string("cannot open its log files: ") +
                                                        std::strerror(why)));
    return ok_status();
  }
  // Each start holds these briefly: a start that would leave too few for clients is refused,
  // so that ps, kill and followers are still served.
  if (fd_headroom_gone(std::max({out.get(), err.get(), index.get()}))) {
    done(make_error(Errc::failed, out_of_fds_message("start a process")));
    return ok_status();
  }

  // Looked up here, on each launch (a restart sees the database as it is then), never
  // after the fork.
  auto as = resolve_run_as(r.user, ::geteuid(), ::getegid());
  if (!as) {
    done(as.error());
    return ok_status();
  }
  std::vector<std::string> overrides;
  for (const auto& [k, v] : r.env) overrides.push_back(k);

  SpawnRequest req;
  req.waiter = waiter_path_;
  req.user = waiter_user_arg(*as);
  req.exit_file = paths_.exit_path(r.id);
  req.program = program;
  req.argv = r.argv;
  r.run_token = new_run_token();
  req.envp = *as ? env_for(envp, **as, overrides) : envp;
  req.run_env =
      std::string(kRunTokenVar) + "=" + r.run_token;  // not the waiter's: it is never killed
  req.cwd = r.cwd;
  req.fd_limit = program_fd_limit();
  req.stdin_fd = dev_null_.get();
  req.stdout_fd = out.get();
  req.stderr_fd = err.get();
  req.index_fd = index.get();
  if (r.tty) req.tty = r.tty_size;
  if (!r.cgroup.empty()) req.cgroup = r.cgroup;
  // A first run starts the log afresh (emptied below, before the waiter is let go).
  if (!first_run) req.log_ends = read_log_ends(index.get(), out.get(), err.get(), r);
  auto spawned = spawn_waiter(req, &spare_);
  if (!spawned) {
    done(spawned.error());
    return ok_status();
  }

  pid_t waiter = spawned->waiter;
  r.waiter_pid = waiter;
  r.waiter_start_ticks = spawned->start_ticks ? spawned->start_ticks : process_start_ticks(waiter);
  r.boot_id = boot_id_;
  r.pid.reset();
  r.status = ProcStatus::starting;
  if (auto saved = store_.save_once(r); !saved) {
    ::kill(waiter, SIGKILL);  // held before the fork: nothing of the run was started
    ::waitpid(waiter, nullptr, 0);
    r.waiter_pid.reset();
    r.waiter_start_ticks.reset();
    return make_error(Errc::failed,
                      "cannot record '" + r.id + "' before starting it: " + saved.error().message);
  }
  if (first_run && !(empty_log(out.get()) && empty_log(err.get()) && empty_log(index.get()))) {
    spdlog::warn("{}: cannot empty its logs: {}", r.id, std::strerror(errno));
  }
  ::unlink(req.exit_file.c_str());
  // The waiter is our child from now on: the SIGCHLD sweep must leave it to us.
  waiter_pids_.insert(waiter);
  EpochMs released = now_epoch_ms();  // before the program can write its first byte
  release_waiter(*spawned);           // a waiter already gone says so: its report ends at once

  auto s = std::make_shared<Pending::State>(waiter_pids_, spare_, r, req.envp, std::move(done));
  s->released = released;
  s->report = std::make_unique<asio::posix::stream_descriptor>(io_, spawned->report.release());
  std::weak_ptr<Pending::State> weak = s;
  s->time_limit = timers_.start(kLaunchReportLimit, [weak] {
    auto s = weak.lock();
    if (!s || !s->report || !s->done) return;
    spdlog::error("{}: its waiter (pid {}) did not report within {}; killing it", s->rec.id,
                  s->rec.waiter_pid.value_or(0), format_duration(kLaunchReportLimit));
    s->line.clear();  // whatever it said, it is killed
    s->reported(make_error(Errc::failed, "the waiter sbx-shim did not report within " +
                                             format_duration(kLaunchReportLimit)),
                "");
  });
  s->read();
  pending = std::make_unique<Pending>(std::move(s));
  return ok_status();
}

}  // namespace sbx::daemon
