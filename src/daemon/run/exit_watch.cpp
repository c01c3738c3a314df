// Why not Boost.Process's process_handle::async_wait: in Boost 1.81 it answers the pidfd's
// readiness with a blocking waitpid(pid, 0). A readiness event that is not the exit (seen
// under concurrent starts) then blocks the whole daemon in wait4 until that child ends.
// Here readiness is only a hint: waitid(WNOHANG) decides, and a false alarm re-arms.

#include "daemon/run/exit_watch.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>

#include "daemon/fd_limit.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {

constexpr Millis kExitPollInterval{100};  ///< how often an end without a pidfd is checked

/// A pidfd for `pid` (close-on-exec), or -1 with errno; one that would eat into the
/// descriptors kept for clients is closed again (EMFILE).
int open_pidfd(pid_t pid) {
  int fd = pid > 1 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1;
  if (fd >= 0 && fd_headroom_gone(fd)) {
    ::close(fd);
    fd = -1;
    errno = EMFILE;
  }
  return fd;
}

}  // namespace

struct ExitWatch::State : std::enable_shared_from_this<State> {
  asio::io_context& io;
  Timers& timers;
  std::string id;
  pid_t pid;
  bool reap;
  std::function<bool()> alive;
  std::function<void()> on_end;
  std::unique_ptr<asio::posix::stream_descriptor> pidfd;
  Timers::Timer poll_timer;

  State(asio::io_context& io_, Timers& t, std::string id_, pid_t p, bool r, std::function<bool()> a)
      : io(io_), timers(t), id(std::move(id_)), pid(p), reap(r), alive(std::move(a)) {}

  void ended() {
    pidfd.reset();
    poll_timer.cancel();
    auto fn = std::move(on_end);
    on_end = nullptr;
    if (fn) fn();
  }

  void arm() {
    std::weak_ptr<State> weak = shared_from_this();
    pidfd->async_wait(
        asio::posix::stream_descriptor::wait_read, [weak](boost::system::error_code ec) {
          if (ec == asio::error::operation_aborted) return;
          auto s = weak.lock();
          if (!s || !s->pidfd || !s->on_end) return;
          if (s->reap) {
            siginfo_t si{};
            int rc = ::waitid(static_cast<idtype_t>(P_PIDFD),
                              static_cast<id_t>(s->pidfd->native_handle()), &si, WEXITED | WNOHANG);
            if (rc == 0 && si.si_pid == 0) return s->arm();  // not ended: a false alarm
            if (rc != 0)
              spdlog::error("waitid on the waiter of {} failed: {}", s->id, std::strerror(errno));
          } else if (s->alive()) {
            return s->arm();
          }
          s->ended();
        });
  }

  void poll(int err) {
    spdlog::warn("{}: cannot watch pid {} with a pidfd ({}); checking every {} whether it ended",
                 id, pid, std::strerror(err), format_duration(kExitPollInterval));
    arm_poll();
  }

  void arm_poll() {
    std::weak_ptr<State> weak = shared_from_this();
    poll_timer = timers.start(kExitPollInterval, [weak] {
      if (auto s = weak.lock()) s->check_polled();
    });
  }

  void check_polled() {
    int fd = open_pidfd(pid);
    if (fd >= 0) {  // descriptors are back: the pidfd says when it ends (or has ended)
      spdlog::info("{}: watching pid {} with a pidfd again", id, pid);
      pidfd = std::make_unique<asio::posix::stream_descriptor>(io, fd);
      return arm();
    }
    bool gone;
    if (reap) {
      siginfo_t si{};
      int rc = ::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG);
      gone = rc != 0 || si.si_pid != 0;
    } else {
      gone = !alive();
    }
    if (gone) return ended();
    arm_poll();
  }
};

ExitWatch::ExitWatch(asio::io_context& io, Timers& timers, std::string id, pid_t pid, bool reap,
                     std::function<bool()> alive)
    : state_(std::make_shared<State>(io, timers, std::move(id), pid, reap, std::move(alive))) {}

ExitWatch::~ExitWatch() {
  state_->on_end = nullptr;
  state_->pidfd.reset();
  state_->poll_timer.cancel();
}

bool ExitWatch::start(std::function<void()> on_end) {
  State& s = *state_;
  s.on_end = std::move(on_end);
  int fd = open_pidfd(s.pid);
  if (fd < 0 && s.pid > 1 && errno != ESRCH) {  // out of descriptors, say: never block the loop
    s.poll(errno);
    return true;
  }
  if (fd < 0) {
    if (s.reap && s.pid > 1) ::waitpid(s.pid, nullptr, WNOHANG);  // gone already: a zombie to reap
    s.on_end = nullptr;
    return false;
  }
  s.pidfd = std::make_unique<asio::posix::stream_descriptor>(s.io, fd);
  s.arm();
  return true;
}

}  // namespace sbx::daemon
