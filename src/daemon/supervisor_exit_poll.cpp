// Watching a run's end without a pidfd: when pidfd_open fails (the daemon is out of
// descriptors), the end is checked on a timer with waitid(WNOHANG), never with a blocking
// wait that would freeze the event loop until the process ends.

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "common/proc.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/supervisor_impl.hpp"

namespace sbx::daemon {

void Supervisor::Impl::poll_exit(const std::shared_ptr<Entry>& e, int err) {
  pid_t watched = e->watched == Watched::program ? e->rec.pid.value_or(0) : e->rec.waiter_pid.value_or(0);
  spdlog::warn("{}: cannot watch pid {} with a pidfd ({}); checking every {} whether it ended", e->rec.id, watched,
               std::strerror(err), format_duration(kExitPollInterval));
  std::weak_ptr<Entry> weak = e;
  e->exit_poll_timer = timers.start(kExitPollInterval, [this, weak] {
    if (auto e = weak.lock()) check_exit_polled(e);
  });
}

void Supervisor::Impl::check_exit_polled(const std::shared_ptr<Entry>& e) {
  bool program = e->watched == Watched::program;
  pid_t watched = program ? e->rec.pid.value_or(0) : e->rec.waiter_pid.value_or(0);
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, watched, 0));  // close-on-exec
  if (fd >= 0 && fd_headroom_gone(fd)) {
    ::close(fd);
    fd = -1;
  }
  if (fd >= 0) {  // descriptors are back: the pidfd says when it ends (or has ended)
    spdlog::info("{}: watching pid {} with a pidfd again", e->rec.id, watched);
    e->pidfd = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd);
    return arm_exit(e);
  }
  bool ended;
  if (e->watched == Watched::own_waiter) {
    siginfo_t si{};
    int rc = ::waitid(P_PID, static_cast<id_t>(watched), &si, WEXITED | WNOHANG);
    ended = rc != 0 || si.si_pid != 0;
    if (ended) leaders.erase(watched);
  } else {
    ended = !process_alive(watched, program ? e->rec.pid_start_ticks : e->rec.waiter_start_ticks);
  }
  if (ended) return waiter_ended(e);
  std::weak_ptr<Entry> weak = e;
  e->exit_poll_timer = timers.start(kExitPollInterval, [this, weak] {
    if (auto e = weak.lock()) check_exit_polled(e);
  });
}

}  // namespace sbx::daemon
