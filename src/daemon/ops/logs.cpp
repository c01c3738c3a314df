#include <boost/json/serialize.hpp>

#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/logs/session.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace json = boost::json;

void op_logs(Context& ctx, const json::object& args, const ConnPtr& conn) {
  LogSessionSpec spec;
  auto id = proto::get_string(args, "id");
  if (!id) return conn->reply(id.error());
  if (auto found = ctx.supervisor.lookup(*id); !found) return conn->reply(found.error());
  spec.id = *id;
  spec.want_stdout = proto::get_bool(args, "stdout", true);
  spec.want_stderr = proto::get_bool(args, "stderr", true);
  spec.tail = proto::get_opt_int(args, "tail");
  spec.follow = proto::get_bool(args, "follow");
  spec.from[0] = proto::get_opt_int(args, "from_stdout");
  spec.from[1] = proto::get_opt_int(args, "from_stderr");

  std::weak_ptr<Connection> weak_conn = conn;
  auto sink = [weak_conn](std::uint8_t stream, std::string_view bytes) {
    if (auto c = weak_conn.lock()) c->send(proto::FrameKind::data, stream, bytes);
  };
  auto session = LogSession::open(ctx, spec, sink, conn);
  if (!session) return conn->reply(session.error());
  auto s = *session;
  conn->on_close([s] { s->stop(); });
  if (spec.follow) {
    // So that a follower can go on where it was with the next daemon (from_stdout/stderr).
    s->on_offset([weak_conn](const LogSession::Offsets& o) {
      auto c = weak_conn.lock();
      if (!c) return;
      json::object ev;
      ev["type"] = "offsets";
      if (o.at[0]) ev["stdout"] = *o.at[0];
      if (o.at[1]) ev["stderr"] = *o.at[1];
      c->send(proto::FrameKind::event, 0, json::serialize(ev));
    });
  }
  s->start([weak_conn](const ProcessRecord& rec) {
    if (auto c = weak_conn.lock()) c->end(json::value(record_to_json(rec)));
  });
}

}  // namespace sbx::daemon
