#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "daemon/ops/ops.hpp"
#include "daemon/ops/port_probe.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

struct WaitPort {
  Context& ctx;
  ConnPtr conn;
  std::string id;
  ProbeSpec spec;
  Millis interval{10};
  std::shared_ptr<PortProbe> probe{};
  Supervisor::WatchId end_watch = 0;
  Timers::Id deadline = 0;
  Timers::Id next = 0;
  bool answered = false;
  std::string last_detail = "no probe finished yet";

  void answer(const Result<json::value>& r) {
    if (answered) return;
    answered = true;
    cleanup();
    conn->reply(r);
  }

  void cleanup() {
    ctx.timers.cancel(deadline);
    ctx.timers.cancel(next);
    if (end_watch) ctx.supervisor.unwatch_end(id, end_watch);
    end_watch = 0;
    if (probe) probe->cancel();
    probe.reset();
  }
};

std::string what(const ProbeSpec& s) {
  return "port " + std::to_string(s.port) + (s.http_path ? " (GET " + *s.http_path + ")" : "");
}

void probe_once(const std::shared_ptr<WaitPort>& w) {
  std::weak_ptr<WaitPort> weak = w;
  w->probe = std::make_shared<PortProbe>(w->ctx.io, w->spec);
  w->probe->run([weak](ProbeResult r) {
    auto w = weak.lock();
    if (!w || w->answered) return;
    if (r.ready) {
      json::object o;
      o["port"] = w->spec.port;
      o["host"] = r.host;
      if (r.status) o["status"] = r.status;
      return w->answer(json::value(std::move(o)));
    }
    w->last_detail = r.detail;
    w->next = w->ctx.timers.after(w->interval, [weak] {
      if (auto w = weak.lock(); w && !w->answered) {
        w->next = 0;
        probe_once(w);
      }
    });
  });
}

}  // namespace

void op_wait_port(Context& ctx, const json::object& args, const ConnPtr& conn) {
  auto id = proto::get_string(args, "id");
  if (!id) return conn->reply(id.error());
  auto found = ctx.supervisor.lookup(*id);
  if (!found) return conn->reply(found.error());
  const ProcessRecord* r = *found;

  ProbeSpec spec;
  auto port = proto::get_opt_int(args, "port");
  if (auto st = check_port(port.value_or(0)); !st) return conn->reply(st.error());
  spec.port = static_cast<int>(*port);
  if (auto* hosts = args.if_contains("hosts"); hosts && hosts->is_array()) {
    for (const auto& h : hosts->get_array()) {
      if (h.is_string()) spec.hosts.emplace_back(h.get_string());
    }
  }
  if (spec.hosts.empty()) spec.hosts = {"127.0.0.1", "::1"};
  for (const auto& h : spec.hosts) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(h, ec);
    if (ec) return conn->reply(make_error(Errc::usage, "'" + h + "' is not an IP address"));
  }
  spec.http_path = proto::get_opt_string(args, "http_path");
  spec.status_lo = static_cast<int>(proto::get_opt_int(args, "status_lo").value_or(200));
  spec.status_hi = static_cast<int>(proto::get_opt_int(args, "status_hi").value_or(399));

  auto w = std::make_shared<WaitPort>(WaitPort{ctx, conn, *id, spec});
  if (auto iv = proto::get_opt_int(args, "interval_ms"))
    w->interval = Millis(std::max<std::int64_t>(1, *iv));
  w->spec.deadline = std::max(Millis(1000), w->interval);
  std::weak_ptr<WaitPort> weak = w;
  conn->on_close([w] { w->cleanup(); });

  // Subscribe to the end before the first probe: an exit is never missed.
  if (r->ended()) {
    return w->answer(make_error(Errc::failed, "'" + *id + "' has already ended (" +
                                                  status_name(r->status) + ") and never opened " +
                                                  what(spec)));
  }
  w->end_watch = ctx.supervisor.watch_end(*id, [weak](const ProcessRecord& rec) {
    if (auto w = weak.lock()) {
      w->end_watch = 0;
      w->answer(make_error(Errc::failed, "'" + w->id + "' ended (" + status_name(rec.status) +
                                             ") before " + what(w->spec) +
                                             " was ready: " + w->last_detail));
    }
  });
  if (auto t = proto::get_opt_int(args, "timeout_ms")) {
    // waited_ms: what a client that lost its daemon had waited already (for the message).
    Millis asked(*t + proto::get_opt_int(args, "waited_ms").value_or(0));
    w->deadline = ctx.timers.after(Millis(*t), [weak, asked] {
      if (auto w = weak.lock()) {
        w->answer(make_error(Errc::timeout, what(w->spec) + " of '" + w->id + "' not ready after " +
                                                format_duration(asked) + ": " + w->last_detail));
      }
    });
  }
  probe_once(w);
}

}  // namespace sbx::daemon
