#include "daemon/ops.hpp"

#include <array>

#include "proto/message.hpp"

namespace sbx::daemon {

namespace {
constexpr std::array<OpEntry, 13> kOps{{
    {"start", &op_start},
    {"ps", &op_ps},
    {"show", &op_show},
    {"logs", &op_logs},
    {"wait", &op_wait},
    {"wait_log", &op_wait_log},
    {"wait_port", &op_wait_port},
    {"kill", &op_kill},
    {"rm", &op_rm},
    {"prune", &op_prune},
    {"daemon_status", &op_daemon_status},
    {"daemon_stop", &op_daemon_stop},
    {"daemon_detach", &op_daemon_detach},
}};
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
