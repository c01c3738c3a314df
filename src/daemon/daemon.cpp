#include "daemon/daemon.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "common/defaults.hpp"
#include "daemon/context.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/proxy/proxy.hpp"
#include "daemon/run/supervisor.hpp"
#include "daemon/server.hpp"
#include "daemon/timers.hpp"
#include "proto/requests_daemon.hpp"
#include "sbx_config.h"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {

/// Signals arrive through a signalfd on the loop, never as handlers.
class SignalWatch {
 public:
  SignalWatch(asio::io_context& io, std::function<void(int)> on_signal)
      : desc_(io), on_signal_(std::move(on_signal)) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    desc_.assign(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    wait();
  }

 private:
  void wait() {
    desc_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](boost::system::error_code ec) {
                       if (ec) return;
                       signalfd_siginfo si{};
                       while (::read(desc_.native_handle(), &si, sizeof si) == sizeof si)
                         on_signal_(static_cast<int>(si.ssi_signo));
                       wait();
                     });
  }
  asio::posix::stream_descriptor desc_;
  std::function<void(int)> on_signal_;
};

}  // namespace

int run_daemon(const DaemonOptions& opts) {
  ::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  // Orphans of our process trees (a shell's background jobs) are re-parented to us, so we
  // reap them and a kill can tell when a whole tree is gone.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  asio::io_context io(1);
  Timers timers(io);
  LogWatch log_watch(io);
  Supervisor supervisor(io, opts.paths, timers, log_watch);
  Context ctx{io,    opts.paths, supervisor, timers, log_watch, now_epoch_ms(),
              false, nullptr,    nullptr};
  Proxy proxy(io, supervisor, opts.proxy_port);
  ctx.proxy = &proxy;
  Server server(io, ctx);

  std::vector<ConnPtr> stop_waiters;
  proto::DaemonStopReply stopped_reply;  ///< what the shutdown stopped: the reply names them
  bool stopped = false;
  // Lets the last replies flush, then leaves the loop.
  std::function<void(int)> drain_then_stop = [&](int tries) {
    if (server.connections() == 0 || tries == 0) return io.stop();
    timers.after(Millis(10), [&, tries] { drain_then_stop(tries - 1); });
  };
  auto finish_shutdown = [&] {
    supervisor.close_trees();
    server.close();
    proxy.close();
    for (auto& c : stop_waiters) {
      c->reply(stopped_reply.to_json());
    }
    stop_waiters.clear();
    stopped = true;
    drain_then_stop(200);
  };
  ctx.shutdown = [&](ConnPtr conn) {
    if (conn) stop_waiters.push_back(conn);
    if (ctx.stopping) return;
    ctx.stopping = true;
    std::vector<std::string> live;
    for (const ProcessRecord* r : supervisor.all()) {
      if (!r->ended()) live.push_back(r->id);
    }
    stopped_reply.ids = live;
    spdlog::info("stopping: {} live process(es)", live.size());
    auto pending = std::make_shared<std::size_t>(live.size() + 1);
    auto one_done = [pending, &finish_shutdown] {
      if (--*pending == 0) finish_shutdown();
    };
    for (const auto& id : live) supervisor.stop(id, kStopSignal, kStopGrace, "stop", one_done);
    one_done();
  };

  SignalWatch signals(io, [&](int sig) {
    if (sig == SIGCHLD) {
      supervisor.reap_orphans();
    } else if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      ctx.shutdown(nullptr);
    }
  });

  // `daemon restart`: leave every process running (their waiters keep waiting) and exit;
  // the next sbxd adopts them.
  ctx.detach = [&](ConnPtr conn) {
    ctx.stopping = true;
    server.close();
    proxy.close();
    // Runs being launched get their pid (and their record) first: the next sbxd adopts
    // them by it.
    supervisor.freeze([&, conn] {
      spdlog::info("detaching: {} live process(es) stay running for the next sbxd",
                   supervisor.live_count());
      if (conn) conn->reply(proto::daemon_detach_reply());
      drain_then_stop(200);
    });
  };

  // Listening first: adopting many processes may use up the descriptors (they are then
  // watched without one), and clients queue until the loop runs.
  auto listening =
      opts.listen_fd >= 0 ? server.adopt(opts.listen_fd) : server.listen(opts.paths.socket);
  if (auto st = listening; !st) {
    spdlog::critical("{}", st.error().message);
    return 1;
  }
  if (auto st = supervisor.open_trees(); !st) {
    spdlog::critical("{}", st.error().message);
    return 1;
  }
  supervisor.load();
  spdlog::info("sbxd {} listening on {} (pid {})", SBX_VERSION, opts.paths.socket, ::getpid());
  if (opts.ready_fd >= 0) {
    ssize_t ignored = ::write(opts.ready_fd, "\n", 1);
    (void)ignored;
    ::close(opts.ready_fd);
  }
  io.run();
  server.close();
  spdlog::info("sbxd stopped{}", stopped ? "" : " (loop ended)");
  return 0;
}

}  // namespace sbx::daemon
