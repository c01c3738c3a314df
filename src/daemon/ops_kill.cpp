#include <boost/json/array.hpp>
#include <memory>

#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "common/defaults.hpp"
#include "daemon/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

/// Collects the results of stopping several processes and answers once all are done.
struct KillBatch {
  Context& ctx;
  ConnPtr conn;
  std::vector<std::string> ids;
  json::array already_ended;
  std::size_t pending = 0;

  void answer() {
    json::array records;
    for (const auto& id : ids) {
      if (const ProcessRecord* r = ctx.supervisor.find(id)) records.emplace_back(record_to_json(*r));
    }
    json::object o;
    o["records"] = std::move(records);
    o["already_ended"] = std::move(already_ended);
    conn->reply(json::value(std::move(o)));
  }
};

}  // namespace

void op_kill(Context& ctx, const json::object& args, const ConnPtr& conn) {
  std::vector<std::string> ids;
  if (auto* v = args.if_contains("ids"); v && v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) return conn->reply(make_error(Errc::protocol, "'ids' must be strings"));
      ids.emplace_back(e.get_string());
    }
  }
  if (proto::get_bool(args, "all")) {
    auto session = proto::get_opt_bytes(args, "session");
    for (const ProcessRecord* r : ctx.supervisor.all()) {
      if (!r->ended() && (!session || r->session == *session)) ids.push_back(r->id);
    }
  } else if (ids.empty()) {
    return conn->reply(make_error(Errc::usage, "name the processes to kill, or use --all"));
  }
  for (const auto& id : ids) {
    if (auto found = ctx.supervisor.lookup(id); !found) return conn->reply(found.error());
  }
  int sig = static_cast<int>(proto::get_opt_int(args, "signal").value_or(kStopSignal));
  if (sig < 1 || sig > 64) return conn->reply(make_error(Errc::usage, "bad signal number"));
  bool stop = proto::get_bool(args, "stop", true);
  bool wait = proto::get_bool(args, "wait", true);
  Millis grace(proto::get_opt_int(args, "grace_ms").value_or(kStopGrace.count()));

  auto batch = std::make_shared<KillBatch>(KillBatch{ctx, conn, ids, {}, 0});
  for (const auto& id : ids) {
    if (ctx.supervisor.find(id)->ended()) batch->already_ended.emplace_back(id);
  }
  if (!stop) {
    for (const auto& id : ids) ctx.supervisor.signal(id, sig);
    return batch->answer();
  }
  batch->pending = ids.size() + 1;
  auto one_done = [batch, wait] {
    if (--batch->pending == 0 && wait) batch->answer();
  };
  for (const auto& id : ids) ctx.supervisor.stop(id, sig, grace, "kill", one_done);
  if (!wait) return batch->answer();
  one_done();
}

}  // namespace sbx::daemon
