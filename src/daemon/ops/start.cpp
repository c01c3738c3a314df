#include <boost/json/array.hpp>

#include "common/command_line.hpp"
#include "common/defaults.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_start.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

StartSpec spec_of(proto::StartRequest r) {
  StartSpec spec;
  spec.id = std::move(r.id);
  spec.argv = std::move(r.argv);
  spec.shell_line = std::move(r.shell_line);
  spec.cwd = std::move(r.cwd);
  spec.base_env = std::move(r.base_env);
  spec.env = std::move(r.env);
  spec.session = std::move(r.session);
  spec.timeout_ms = r.timeout_ms;
  spec.auto_cleanup = r.auto_cleanup;
  spec.restart = std::move(r.restart);
  spec.max_restarts = r.max_restarts;
  spec.log_max = r.log_max;
  return spec;
}

}  // namespace

void op_start(Context& ctx, const proto::StartRequest& req, const ConnPtr& conn) {
  if (ctx.stopping)
    return conn->reply(make_error(Errc::unavailable, "sbxd is stopping; start it again and retry"));
  ctx.supervisor.start(spec_of(req), [conn](Result<ProcessRecord> rec) {
    if (!rec) return conn->reply(rec.error());
    conn->reply(json::value(record_to_json(*rec)));
  });
}

}  // namespace sbx::daemon
