#include <boost/json/serialize.hpp>

#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/logs/session.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/frame.hpp"
#include "proto/message.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::daemon {
namespace json = boost::json;

void op_logs(Context& ctx, const proto::LogsRequest& req, const ConnPtr& conn) {
  if (auto found = ctx.supervisor.lookup(req.id); !found) return conn->reply(found.error());
  LogSessionSpec spec;
  spec.id = req.id;
  spec.want_stdout = req.want_stdout;
  spec.want_stderr = req.want_stderr;
  spec.tail = req.tail;
  spec.follow = req.follow;
  spec.from[0] = req.from.at[0];
  spec.from[1] = req.from.at[1];
  spec.indexed = true;
  spec.filter.since_ns = req.since_ns;
  spec.filter.until_ns = req.until_ns;

  std::weak_ptr<Connection> weak_conn = conn;
  bool timed = req.timed;
  auto sink = [weak_conn, timed](std::uint8_t stream, const std::vector<proto::ChunkRun>& runs,
                                 std::string_view bytes) {
    auto c = weak_conn.lock();
    if (!c) return;
    if (!timed) return c->send(proto::FrameKind::data, stream, bytes);
    c->send(proto::FrameKind::chunk, stream, proto::encode_chunk(0, runs, bytes));
  };
  auto session = LogSession::open(ctx, spec, IndexedReader::Sink(sink), conn);
  if (!session) return conn->reply(session.error());
  auto s = *session;
  conn->on_close([s] { s->stop(); });
  if (spec.follow) {
    // So that a follower can go on where it was with the next daemon (from_stdout/stderr).
    s->on_offset([weak_conn](const LogSession::Offsets& o) {
      auto c = weak_conn.lock();
      if (!c) return;
      auto ev = proto::offsets_event(proto::kOffsetsEvent, {{o.at[0], o.at[1]}});
      for (int k = 0; k < 2; ++k) {
        if (o.filtered[k] > 0) ev[proto::kFilteredKey[k]] = o.filtered[k];
      }
      c->send(proto::FrameKind::event, 0, json::serialize(ev));
    });
    s->on_caught_up([weak_conn] {
      json::object ev;
      ev["type"] = proto::kCaughtUpEvent;
      if (auto c = weak_conn.lock()) c->send(proto::FrameKind::event, 0, json::serialize(ev));
    });
  }
  s->start([weak_conn](const ProcessRecord& rec) {
    if (auto c = weak_conn.lock()) c->end(json::value(record_to_json(rec)));
  });
}

}  // namespace sbx::daemon
