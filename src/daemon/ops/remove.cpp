// rm and prune: forgetting ended processes, their records and logs.

#include <signal.h>

#include <memory>

#include "common/ids.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/message.hpp"
#include "proto/requests_records.hpp"

namespace sbx::daemon {

void op_rm(Context& ctx, const proto::RmRequest& req, const ConnPtr& conn) {
  const std::vector<std::string>& ids = req.ids;
  bool force = req.force;
  // All or nothing: every id is checked before anything is removed.
  for (const auto& id : ids) {
    auto found = ctx.supervisor.lookup(id);
    if (!found) return conn->reply(found.error());
    const ProcessRecord* r = *found;
    if (!r->ended() && !force) {
      return conn->reply(make_error(Errc::conflict, "process '" + id + "' is " +
                                                        status_name(r->status) +
                                                        ": stop it first ('sbx kill " + id +
                                                        "') or use 'sbx rm -f " + id + "'"));
    }
  }
  // Only a live process is killed (-f); what an ended one left running (a service it
  // started with setsid, say) is left alone: removing a record only forgets.
  std::vector<std::string> live;
  for (const auto& id : ids) {
    if (!ctx.supervisor.find(id)->ended()) live.push_back(id);
  }
  auto pending = std::make_shared<std::size_t>(live.size() + 1);
  auto finish = [&ctx, conn, ids, pending] {
    if (--*pending > 0) return;
    proto::RmReply reply;
    for (const auto& id : ids) {
      if (ctx.supervisor.remove(id)) reply.removed.push_back(id);
    }
    conn->reply(reply.to_json());
  };
  for (const auto& id : live) ctx.supervisor.stop(id, SIGKILL, Millis(0), "kill", finish);
  finish();
}

void op_prune(Context& ctx, const proto::PruneRequest&, const ConnPtr& conn) {
  std::vector<std::string> ended;
  for (const ProcessRecord* r : ctx.supervisor.all()) {
    if (r->ended()) ended.push_back(r->id);
  }
  proto::RmReply reply;
  for (const auto& id : ended) {
    if (ctx.supervisor.remove(id)) reply.removed.push_back(id);
  }
  conn->reply(reply.to_json());
}

}  // namespace sbx::daemon
