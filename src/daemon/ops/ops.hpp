#pragma once
// The daemon's operations: one per request "op", listed in one table (table.cpp). Each is a
// parse step, the from_json of its typed request (proto/requests_*.hpp), whose error is the
// reply, and a handler that gets the request it accepted.

#include <boost/json/object.hpp>
#include <string_view>

#include "daemon/connection.hpp"
#include "daemon/context.hpp"
#include "proto/requests_daemon.hpp"
#include "proto/requests_expose.hpp"
#include "proto/requests_ports.hpp"
#include "proto/requests_records.hpp"
#include "proto/requests_start.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::daemon {

/// Gives a waiting request its one answer: the first result wins (a deadline, the end of
/// the process and success may race), after `w.cleanup()` has stopped the rest.
template <typename Wait>
void answer_once(Wait& w, const Result<boost::json::value>& r) {
  if (w.answered) return;
  w.answered = true;
  w.cleanup();
  w.conn->reply(r);
}

/// Handles one request as it came. It must eventually answer through conn (reply/end),
/// unless the connection closes first; it never throws for bad input.
using OpHandler = void (*)(Context& ctx, const boost::json::object& args, const ConnPtr& conn);

struct OpEntry {
  std::string_view name;
  OpHandler handler;
};

/// nullptr for an unknown op.
OpHandler find_op(std::string_view name);

/// Handles a request that its from_json accepted.
template <class Request>
using TypedHandler = void (*)(Context& ctx, const Request& req, const ConnPtr& conn);

/// The entry of an op: Request's name, its parse step (a bad request gets the parse error
/// as the reply) and then Handle.
template <class Request, TypedHandler<Request> Handle>
constexpr OpEntry typed_op() {
  return {Request::kOp, [](Context& ctx, const boost::json::object& args, const ConnPtr& conn) {
            auto req = Request::from_json(args);
            if (!req) return conn->reply(req.error());
            Handle(ctx, *req, conn);
          }};
}

void op_start(Context&, const proto::StartRequest&, const ConnPtr&);
void op_ps(Context&, const proto::PsRequest&, const ConnPtr&);
void op_show(Context&, const proto::ShowRequest&, const ConnPtr&);
void op_logs(Context&, const proto::LogsRequest&, const ConnPtr&);
void op_wait(Context&, const proto::WaitRequest&, const ConnPtr&);
void op_wait_log(Context&, const proto::WaitLogRequest&, const ConnPtr&);
void op_wait_port(Context&, const proto::WaitPortRequest&, const ConnPtr&);
void op_kill(Context&, const proto::KillRequest&, const ConnPtr&);
void op_rm(Context&, const proto::RmRequest&, const ConnPtr&);
void op_prune(Context&, const proto::PruneRequest&, const ConnPtr&);
void op_ports(Context&, const proto::PortsRequest&, const ConnPtr&);
void op_stats(Context&, const proto::StatsRequest&, const ConnPtr&);
void op_daemon_status(Context&, const proto::DaemonStatusRequest&, const ConnPtr&);
void op_daemon_stop(Context&, const proto::DaemonStopRequest&, const ConnPtr&);
void op_daemon_detach(Context&, const proto::DaemonDetachRequest&, const ConnPtr&);
void op_expose(Context&, const proto::ExposeRequest&, const ConnPtr&);
void op_unexpose(Context&, const proto::UnexposeRequest&, const ConnPtr&);
void op_expose_list(Context&, const proto::ExposeListRequest&, const ConnPtr&);

}  // namespace sbx::daemon
