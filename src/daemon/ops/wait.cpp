#include <memory>

#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/message.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::daemon {
namespace json = boost::json;

void op_wait(Context& ctx, const proto::WaitRequest& req, const ConnPtr& conn) {
  const std::string* id = &req.id;
  auto found = ctx.supervisor.lookup(*id);
  const ProcessRecord* r =
      found ? *found : ctx.supervisor.recently_removed(*id);  // a late wait on --rm
  if (!r) return conn->reply(found.error());
  if (r->ended()) return conn->reply_text(record_json_text(*r));

  struct State {
    Supervisor::WatchId watch = 0;
    Timers::Id timer = 0;
  };
  auto state = std::make_shared<State>();
  state->watch = ctx.supervisor.watch_end(*id, [&ctx, state, conn](const ProcessRecord& rec) {
    ctx.timers.cancel(state->timer);
    conn->reply_text(record_json_text(rec));
  });
  if (auto t = req.deadline.timeout) {
    Millis asked = req.deadline.asked();
    state->timer = ctx.timers.after(*t, [&ctx, state, conn, id = *id, asked] {
      ctx.supervisor.unwatch_end(id, state->watch);
      conn->reply(
          make_error(Errc::timeout, "'" + id + "' still runs after " + format_duration(asked)));
    });
  }
  conn->on_close([&ctx, state, id = *id] {
    ctx.supervisor.unwatch_end(id, state->watch);
    ctx.timers.cancel(state->timer);
  });
}

}  // namespace sbx::daemon
