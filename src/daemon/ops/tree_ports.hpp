#pragma once
// The listening sockets of a process's tree, as the ports request and ps records show them.

#include <sys/types.h>

#include <vector>

#include "common/listeners.hpp"
#include "proto/requests_ports.hpp"

namespace sbx::daemon {

/// The TCP and UDP listeners that a tree's processes (Supervisor::tree_pids) hold. `scan`
/// reads each network namespace's tables once, however many trees it is asked about.
std::vector<proto::PortEntry> tree_ports(const std::vector<pid_t>& tree, ListenerScan& scan);

}  // namespace sbx::daemon
