#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <chrono>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/proc.hpp"
#include "daemon/ops/ops.hpp"
#include "daemon/ops/port_owner.hpp"
#include "daemon/ops/port_probe.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

constexpr Millis kWholeTreeEvery{250};

struct WaitPort {
  Context& ctx;
  ConnPtr conn;
  std::string id;
  ProbeSpec spec;
  int port = 0;  ///< as asked: 0 for the tree's first
  bool any_owner = false;
  std::vector<std::string> hosts;     ///< as asked; the probe gets those that reach the tree
  std::vector<std::uint64_t> others;  ///< other processes' sockets on the port, last seen
  std::chrono::steady_clock::time_point whole_tree_at{};
  Millis interval{10};
  std::shared_ptr<PortProbe> probe{};
  Supervisor::WatchId end_watch = 0;
  Timers::Id deadline = 0;
  Timers::Id next = 0;
  bool answered = false;
  std::string last_detail = "no probe finished yet";

  /// The last reason it was not ready; a port served by another process names its holder.
  std::string why_not() const {
    if (others.empty()) return last_detail;
    return "it is served by " + describe_holder(others) + ", not by '" + id +
           "' (--any-owner accepts any server)";
  }

  void answer(const Result<json::value>& r) { answer_once(*this, r); }

  void cleanup() {
    ctx.timers.cancel(deadline);
    ctx.timers.cancel(next);
    if (end_watch) ctx.supervisor.unwatch_end(id, end_watch);
    end_watch = 0;
    if (probe) probe->cancel();
    probe.reset();
  }
};

std::string what(const WaitPort& w) {
  std::string port = w.port ? "port " + std::to_string(w.port) : std::string("a TCP port");
  return port + (w.spec.http_path ? " (GET " + *w.spec.http_path + ")" : "");
}

void probe_once(const std::shared_ptr<WaitPort>& w);

void poll_later(const std::shared_ptr<WaitPort>& w) {
  std::weak_ptr<WaitPort> weak = w;
  w->next = w->ctx.timers.after(w->interval, [weak] {
    if (auto w = weak.lock(); w && !w->answered) {
      w->next = 0;
      probe_once(w);
    }
  });
}

/// Unless any owner will do, the probe goes only to a port the tree listens on, and only
/// to the hosts that reach the tree's listener. False: not yet (last_detail says why).
bool aim_at_tree(WaitPort& w) {
  w.others.clear();
  if (w.any_owner) return true;
  const ProcessRecord* r = w.ctx.supervisor.find(w.id);
  if (!r) return false;
  // The leader's descendants answer cheaply; the whole tree (with what left it, found by a
  // scan of /proc that costs milliseconds) is asked at most every kWholeTreeEvery.
  pid_t leader = r->ended() ? 0 : r->pid.value_or(0);
  auto owned = find_owned_port([leader] { return descendants(leader); }, w.port, w.hosts, w.id);
  auto now = std::chrono::steady_clock::now();
  if (!owned.port && owned.asked_tree && now - w.whole_tree_at >= kWholeTreeEvery) {
    w.whole_tree_at = now;
    owned = find_owned_port([&] { return w.ctx.supervisor.tree_pids(*r); }, w.port, w.hosts, w.id);
  }
  if (!owned.port) {
    w.last_detail = std::move(owned.detail);
    w.others = std::move(owned.others);
    return false;
  }
  w.spec.port = owned.port;
  w.spec.hosts = std::move(owned.hosts);
  return true;
}

void probe_once(const std::shared_ptr<WaitPort>& w) {
  std::weak_ptr<WaitPort> weak = w;
  if (!aim_at_tree(*w)) return poll_later(w);
  w->probe = std::make_shared<PortProbe>(w->ctx.io, w->spec);
  w->probe->run([weak](ProbeResult r) {
    auto w = weak.lock();
    if (!w || w->answered) return;
    if (r.ready) {
      return w->answer(proto::WaitPortReply{w->spec.port, r.host, r.status}.to_json());
    }
    w->last_detail = r.detail;
    poll_later(w);
  });
}

}  // namespace

void op_wait_port(Context& ctx, const proto::WaitPortRequest& req, const ConnPtr& conn) {
  const std::string* id = &req.id;
  auto found = ctx.supervisor.lookup(*id);
  if (!found) return conn->reply(found.error());
  const ProcessRecord* r = *found;

  ProbeSpec spec;
  spec.port = req.port;
  spec.hosts = req.hosts;
  for (const auto& h : spec.hosts) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(h, ec);
    if (ec) return conn->reply(make_error(Errc::usage, "'" + h + "' is not an IP address"));
  }
  spec.http_path = req.http_path;
  spec.status_lo = req.status_lo;
  spec.status_hi = req.status_hi;

  auto w = std::make_shared<WaitPort>(
      WaitPort{ctx, conn, *id, spec, req.port, req.any_owner, spec.hosts, {}});
  if (req.interval) w->interval = *req.interval;
  w->spec.deadline = std::max(Millis(1000), w->interval);
  std::weak_ptr<WaitPort> weak = w;
  conn->on_close([w] { w->cleanup(); });

  // Subscribe to the end before the first probe: an exit is never missed.
  if (r->ended()) {
    return w->answer(make_error(Errc::failed, "'" + *id + "' has already ended (" +
                                                  status_name(r->status) + ") and never opened " +
                                                  what(*w)));
  }
  w->end_watch = ctx.supervisor.watch_end(*id, [weak](const ProcessRecord& rec) {
    if (auto w = weak.lock()) {
      w->end_watch = 0;
      w->answer(make_error(Errc::failed, "'" + w->id + "' ended (" + status_name(rec.status) +
                                             ") before " + what(*w) +
                                             " was ready: " + w->why_not()));
    }
  });
  if (auto t = req.deadline.timeout) {
    Millis asked = req.deadline.asked();
    w->deadline = ctx.timers.after(*t, [weak, asked] {
      if (auto w = weak.lock()) {
        w->answer(make_error(Errc::timeout, what(*w) + " of '" + w->id + "' not ready after " +
                                                format_duration(asked) + ": " + w->why_not()));
      }
    });
  }
  probe_once(w);
}

}  // namespace sbx::daemon
