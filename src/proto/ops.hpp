#pragma once
// The names of the requests ("op" of a REQUEST frame, protocol.hpp): the CLI sends them,
// the daemon's table (daemon/ops.cpp) answers them.

#include <string_view>

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
inline constexpr std::string_view daemon_status = "daemon_status";
inline constexpr std::string_view daemon_stop = "daemon_stop";
inline constexpr std::string_view daemon_detach = "daemon_detach";

}  // namespace sbx::proto::op
