#include <boost/json/array.hpp>
#include <memory>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"
#include "proto/requests_records.hpp"

namespace sbx::daemon {

namespace {

/// Collects the results of stopping several processes and answers once all are done.
struct KillBatch {
  Context& ctx;
  ConnPtr conn;
  std::vector<std::string> ids;
  std::vector<std::string> already_ended;
  std::size_t pending = 0;

  void answer() {
    proto::KillReply reply;
    for (const auto& id : ids) {
      if (const ProcessRecord* r = ctx.supervisor.find(id))
        reply.records.emplace_back(record_to_json(*r));
    }
    reply.already_ended = std::move(already_ended);
    conn->reply(reply.to_json());
  }
};

}  // namespace

void op_kill(Context& ctx, const proto::KillRequest& req, const ConnPtr& conn) {
  std::vector<std::string> ids = req.ids;
  if (req.all) {
    for (const ProcessRecord* r : ctx.supervisor.all()) {
      if (!r->ended() && (!req.session || r->session == *req.session)) ids.push_back(r->id);
    }
  }
  for (const auto& id : ids) {
    if (auto found = ctx.supervisor.lookup(id); !found) return conn->reply(found.error());
  }
  int sig = req.signal;
  bool stop = req.stop;
  bool wait = req.wait;
  Millis grace = req.grace;

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
