#pragma once
// The daemon's operations: one handler per request "op", listed in one table (table.cpp).

#include <boost/json/object.hpp>
#include <string_view>

#include "daemon/connection.hpp"
#include "daemon/context.hpp"

namespace sbx::daemon {

/// Handles one request. It must eventually answer through conn (reply/end), unless the
/// connection closes first; it never throws for bad input.
using OpHandler = void (*)(Context& ctx, const boost::json::object& args, const ConnPtr& conn);

struct OpEntry {
  std::string_view name;
  OpHandler handler;
};

/// nullptr for an unknown op.
OpHandler find_op(std::string_view name);

void op_start(Context&, const boost::json::object&, const ConnPtr&);
void op_ps(Context&, const boost::json::object&, const ConnPtr&);
void op_show(Context&, const boost::json::object&, const ConnPtr&);
void op_logs(Context&, const boost::json::object&, const ConnPtr&);
void op_wait(Context&, const boost::json::object&, const ConnPtr&);
void op_wait_log(Context&, const boost::json::object&, const ConnPtr&);
void op_wait_port(Context&, const boost::json::object&, const ConnPtr&);
void op_kill(Context&, const boost::json::object&, const ConnPtr&);
void op_rm(Context&, const boost::json::object&, const ConnPtr&);
void op_prune(Context&, const boost::json::object&, const ConnPtr&);
void op_daemon_status(Context&, const boost::json::object&, const ConnPtr&);
void op_daemon_stop(Context&, const boost::json::object&, const ConnPtr&);
void op_daemon_detach(Context&, const boost::json::object&, const ConnPtr&);

}  // namespace sbx::daemon
