#pragma once
// The ops about the daemon itself: daemon_status, daemon_stop, daemon_detach. They take no
// arguments; their replies are typed here, read by the CLI and written by the daemon.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

using DaemonStatusRequest = BareRequest<op::daemon_status>;
using DaemonStopRequest = BareRequest<op::daemon_stop>;
using DaemonDetachRequest = BareRequest<op::daemon_detach>;

struct DaemonStatusReply {
  std::int64_t pid = 0;
  std::int64_t uptime_ms = 0;
  std::string started;  ///< RFC 3339
  std::string socket;
  std::string state_dir;
  std::string version;
  std::int64_t protocol = 0;
  std::int64_t total = 0;    ///< records
  std::int64_t running = 0;  ///< live ones
  /// The preview proxy's port (0: not known before it first listens).
  std::int64_t proxy_port = 0;
  bool proxy_listening = false;
  std::int64_t exposed = 0;
  std::string tree;    ///< how new runs' trees are known: "cgroup" or "token"
  std::string cgroup;  ///< with "cgroup": the subtree the daemon owns

  boost::json::value to_json() const;
  /// What is missing reads as 0 or "?".
  static DaemonStatusReply from_json(const boost::json::value& v);
};

/// daemon_stop: the ids it stopped.
struct DaemonStopReply {
  std::vector<std::string> ids;

  boost::json::value to_json() const;
  static DaemonStopReply from_json(const boost::json::value& v);
};

/// daemon_detach: the daemon goes, leaving every process to the next one.
boost::json::value daemon_detach_reply();

}  // namespace sbx::proto
