#include <boost/json/array.hpp>

#include "common/command_line.hpp"
#include "common/defaults.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_start.hpp"

namespace sbx::daemon {
namespace json = boost::json;

void op_start(Context& ctx, const proto::StartRequest& req, const ConnPtr& conn) {
  if (ctx.stopping)
    return conn->reply(make_error(Errc::unavailable, "sbxd is stopping; start it again and retry"));
  ctx.supervisor.start(req, [conn](Result<ProcessRecord> rec) {
    if (!rec) return conn->reply(rec.error());
    conn->reply(json::value(record_to_json(*rec)));
  });
}

}  // namespace sbx::daemon
