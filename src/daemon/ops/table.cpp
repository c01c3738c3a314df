#include "daemon/ops/ops.hpp"

#include "proto/message.hpp"
#include "proto/ops.hpp"

namespace sbx::daemon {

namespace {
constexpr OpEntry kOps[] = {
    {proto::op::start, &op_start},
    {proto::op::ps, &op_ps},
    {proto::op::show, &op_show},
    {proto::op::logs, &op_logs},
    {proto::op::wait, &op_wait},
    {proto::op::wait_log, &op_wait_log},
    {proto::op::wait_port, &op_wait_port},
    {proto::op::kill, &op_kill},
    {proto::op::rm, &op_rm},
    {proto::op::prune, &op_prune},
    {proto::op::daemon_status, &op_daemon_status},
    {proto::op::daemon_stop, &op_daemon_stop},
    {proto::op::daemon_detach, &op_daemon_detach},
};
}  // namespace

OpHandler find_op(std::string_view name) {
  for (const auto& op : kOps) {
    if (op.name == name) return op.handler;
  }
  return nullptr;
}

void Connection::reply(const Result<boost::json::value>& r) {
  finish(proto::FrameKind::response, r ? proto::ok_payload(*r) : proto::error_payload(r.error()));
}

void Connection::end(const Result<boost::json::value>& r) {
  finish(proto::FrameKind::end, r ? proto::ok_payload(*r) : proto::error_payload(r.error()));
}

}  // namespace sbx::daemon
