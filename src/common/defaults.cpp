#include "common/defaults.hpp"

#include <string>

namespace sbx {

Status check_restart_policy(std::string_view policy) {
  for (auto p : kRestartPolicies) {
    if (policy == p) return ok_status();
  }
  return make_error(Errc::usage,
                    "bad --restart '" + std::string(policy) + "': use no, on-failure or always");
}

Status check_log_max(std::int64_t bytes) {
  if (bytes == 0 || bytes >= kMinLogMax) return ok_status();
  return make_error(Errc::usage, "--log-max must be 0 (no cap) or at least 64K");
}

Status check_port(std::int64_t port) {
  if (port >= kMinPort && port <= kMaxPort) return ok_status();
  return make_error(Errc::usage, "the port must be 1-65535");
}

Status check_stream(std::string_view stream) {
  if (stream == "stdout" || stream == "stderr") return ok_status();
  return make_error(Errc::usage, "--stream takes stdout or stderr");
}

}  // namespace sbx
