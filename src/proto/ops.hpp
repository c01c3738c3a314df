#pragma once
// The names of the requests ("op" of a REQUEST frame, protocol.hpp): the CLI sends them,
// the daemon's table (daemon/ops/table.cpp) answers them.

#include <boost/json/object.hpp>
#include <string_view>

#include "common/result.hpp"

namespace sbx::proto::op {

inline constexpr std::string_view start = "start";
inline constexpr std::string_view ps = "ps";
inline constexpr std::string_view show = "show";
inline constexpr std::string_view logs = "logs";
inline constexpr std::string_view wait = "wait";
inline constexpr std::string_view wait_log = "wait_log";
inline constexpr std::string_view wait_port = "wait_port";
inline constexpr std::string_view kill = "kill";
inline constexpr std::string_view rm = "rm";
inline constexpr std::string_view prune = "prune";
inline constexpr std::string_view ports = "ports";
inline constexpr std::string_view stats = "stats";
inline constexpr std::string_view daemon_status = "daemon_status";
inline constexpr std::string_view daemon_stop = "daemon_stop";
inline constexpr std::string_view daemon_detach = "daemon_detach";
inline constexpr std::string_view expose = "expose";
inline constexpr std::string_view unexpose = "unexpose";
inline constexpr std::string_view expose_list = "expose_list";

}  // namespace sbx::proto::op

namespace sbx::proto {

/// A typed request (proto/requests_*.hpp) as it is sent, once its from_json accepts it:
/// the CLI checks what it sends by the daemon's own rules, before it connects.
template <class Request>
Result<boost::json::object> checked_json(const Request& r) {
  auto o = r.to_json();
  if (auto back = Request::from_json(o); !back) return back.error();
  return o;
}

/// A request with no arguments.
template <const std::string_view& Op>
struct BareRequest {
  static constexpr std::string_view kOp = Op;
  boost::json::object to_json() const { return {}; }
  static Result<BareRequest> from_json(const boost::json::object&) { return BareRequest{}; }
};

}  // namespace sbx::proto
