#include <boost/json/array.hpp>
#include <cstdlib>

#include "common/command_line.hpp"
#include "common/defaults.hpp"
#include "common/record_json.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_start.hpp"

extern char** environ;

namespace sbx::daemon {
namespace json = boost::json;

namespace {

/// A start from another host: the daemon's own environment, and a folder under its $HOME
/// (the caller's describe another machine).
proto::StartRequest as_local(proto::StartRequest req) {
  for (char** e = environ; e && *e; ++e) req.base_env.emplace_back(*e);
  if (req.cwd.empty() || req.cwd[0] != '/') {
    const char* home = std::getenv("HOME");
    std::string base = home && *home == '/' ? home : "/";
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    req.cwd = req.cwd.empty() ? base : (base == "/" ? "" : base) + "/" + req.cwd;
  }
  return req;
}

}  // namespace

void op_start(Context& ctx, const proto::StartRequest& req, const ConnPtr& conn) {
  if (ctx.stopping)
    return conn->reply(make_error(Errc::unavailable, "sbxd is stopping; start it again and retry"));
  auto done = [conn](Result<ProcessRecord> rec) {
    if (!rec) return conn->reply(rec.error());
    conn->reply_text(record_json_text(*rec));
  };
  if (req.remote) return ctx.supervisor.start(as_local(req), std::move(done));
  ctx.supervisor.start(req, std::move(done));
}

}  // namespace sbx::daemon
