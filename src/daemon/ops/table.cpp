#include "daemon/ops/ops.hpp"

#include "proto/message.hpp"

namespace sbx::daemon {

namespace {
constexpr OpEntry kOps[] = {
    typed_op<proto::StartRequest, &op_start>(),
    typed_op<proto::PsRequest, &op_ps>(),
    typed_op<proto::ShowRequest, &op_show>(),
    typed_op<proto::LogsRequest, &op_logs>(),
    typed_op<proto::WaitRequest, &op_wait>(),
    typed_op<proto::WaitLogRequest, &op_wait_log>(),
    typed_op<proto::WaitPortRequest, &op_wait_port>(),
    typed_op<proto::KillRequest, &op_kill>(),
    typed_op<proto::RmRequest, &op_rm>(),
    typed_op<proto::PruneRequest, &op_prune>(),
    typed_op<proto::PortsRequest, &op_ports>(),
    typed_op<proto::StatsRequest, &op_stats>(),
    typed_op<proto::DaemonStatusRequest, &op_daemon_status>(),
    typed_op<proto::DaemonStopRequest, &op_daemon_stop>(),
    typed_op<proto::DaemonDetachRequest, &op_daemon_detach>(),
    typed_op<proto::ExposeRequest, &op_expose>(),
    typed_op<proto::UnexposeRequest, &op_unexpose>(),
    typed_op<proto::ExposeListRequest, &op_expose_list>(),
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

void Connection::reply_text(std::string_view json) {
  finish(proto::FrameKind::response, proto::ok_payload_text(json));
}

void Connection::end(const Result<boost::json::value>& r) {
  finish(proto::FrameKind::end, r ? proto::ok_payload(*r) : proto::error_payload(r.error()));
}

}  // namespace sbx::daemon
