#pragma once
// The listening sockets of a process's tree, as the ports request and ps records show them.

#include <vector>

#include "common/listeners.hpp"
#include "common/record.hpp"
#include "daemon/run/supervisor.hpp"
#include "proto/requests_ports.hpp"

namespace sbx::daemon {

/// The TCP and UDP listeners of r's tree (none once it ended). `scan` reads each network
/// namespace's tables once, however many records it is asked about.
std::vector<proto::PortEntry> tree_ports(Supervisor& supervisor, const ProcessRecord& r,
                                         ListenerScan& scan);

}  // namespace sbx::daemon
