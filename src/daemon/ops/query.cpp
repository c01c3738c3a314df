// Read-only ops: ps, show, daemon_status.

#include <unistd.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "daemon/ops/tree_ports.hpp"
#include "daemon/proxy/proxy.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_daemon.hpp"
#include "proto/requests_records.hpp"
#include "sbx_config.h"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

/// The records whole, each with the ports its tree listens on, as a JSON array's text:
/// every live tree from one look at /proc, and each network namespace's listeners read once.
std::string full_records(Context& ctx, const std::vector<const ProcessRecord*>& records) {
  std::vector<const ProcessRecord*> live;
  for (const ProcessRecord* r : records) {
    if (!r->ended()) live.push_back(r);
  }
  auto trees = ctx.supervisor.tree_pids(live);
  ListenerScan listeners(true);
  std::string out = "[";
  out.reserve(records.size() * 512);
  for (std::size_t i = 0, k = 0; i < records.size(); ++i) {
    if (i) out += ',';
    append_record_json(out, *records[i]);
    out.pop_back();  // its '}': the ports go in too
    out += ",\"ports\":";
    json::array ports;
    if (!records[i]->ended()) {
      for (const auto& e : tree_ports(trees[k++], listeners)) ports.emplace_back(e.to_json());
    }
    out += json::serialize(ports);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace

void op_ps(Context& ctx, const proto::PsRequest& req, const ConnPtr& conn) {
  const auto& session = req.session;
  auto wanted = req.statuses();
  auto matches = [&wanted](ProcStatus s) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), s) != wanted.end();
  };
  // The table needs a few keys of each record: sending only those keeps `ps` of
  // thousands of records fast on both ends.
  bool brief = req.brief;
  auto records = ctx.supervisor.all();
  std::erase_if(records, [&](const ProcessRecord* r) {
    return (session && r->session != *session) || !matches(r->status);
  });
  if (!brief) return conn->reply_text(full_records(ctx, records));
  // One arena for the whole reply, dropped at once after it is serialized.
  json::monotonic_resource arena;
  json::storage_ptr sp(&arena);
  json::array out(sp);
  out.reserve(records.size());
  for (const ProcessRecord* r : records) {
    json::object o(8, sp);
    o["id"] = r->id;
    o["status"] = status_name(r->status);
    o["command"] = proto::bytes_to_json(r->command, sp);
    if (r->pid) o["pid"] = *r->pid;
    if (r->start_time) o["start_time"] = format_rfc3339(*r->start_time);
    if (r->exit_code) o["exit_code"] = *r->exit_code;
    if (r->signal) o["signal"] = *r->signal;
    out.emplace_back(std::move(o));
  }
  conn->reply(json::value(std::move(out)));
}

void op_show(Context& ctx, const proto::ShowRequest& req, const ConnPtr& conn) {
  auto found = ctx.supervisor.lookup(req.id);
  if (!found) return conn->reply(found.error());
  const ProcessRecord* r = *found;
  if (req.toml) {
    // The daemon renders TOML so that the CLI needs no TOML library (a faster start).
    return conn->reply(proto::ShowTomlReply{record_to_toml(*r, TomlView::display)}.to_json());
  }
  if (req.ports) {
    std::string one = full_records(ctx, {r});
    return conn->reply_text(std::string_view(one).substr(1, one.size() - 2));  // of [R]
  }
  conn->reply_text(record_json_text(*r));
}

void op_daemon_status(Context& ctx, const proto::DaemonStatusRequest&, const ConnPtr& conn) {
  proto::DaemonStatusReply o;
  o.pid = ::getpid();
  o.uptime_ms = now_epoch_ms() - ctx.started_at;
  o.started = format_rfc3339(ctx.started_at);
  o.socket = ctx.paths.socket;
  o.state_dir = ctx.paths.state_dir;
  o.version = SBX_VERSION;
  o.protocol = proto::kProtocolVersion;
  o.total = static_cast<std::int64_t>(ctx.supervisor.all().size());
  o.running = static_cast<std::int64_t>(ctx.supervisor.live_count());
  o.proxy_port = ctx.proxy->port();
  o.proxy_listening = ctx.proxy->listening();
  o.exposed = static_cast<std::int64_t>(ctx.proxy->exposures().size());
  o.tree = ctx.supervisor.tree_mode();
  o.cgroup = ctx.supervisor.tree_root();
  conn->reply(o.to_json());
}

void op_daemon_stop(Context& ctx, const proto::DaemonStopRequest&, const ConnPtr& conn) {
  ctx.shutdown(conn);
}

void op_daemon_detach(Context& ctx, const proto::DaemonDetachRequest&, const ConnPtr& conn) {
  ctx.detach(conn);
}

}  // namespace sbx::daemon
