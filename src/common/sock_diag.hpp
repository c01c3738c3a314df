#pragma once
// The listening sockets of this process's network namespace from the kernel's sock_diag
// netlink interface, which ss(8) uses. It walks only the sockets asked for, where reading
// /proc/net/tcp walks every bucket of the connection table (milliseconds even when empty),
// so a wait that polls every 10 ms asks here.

#include <optional>
#include <vector>

#include "common/listeners.hpp"

namespace sbx {

/// TCP sockets in LISTEN (and, with `with_udp`, bound UDP sockets with no peer), IPv4 and
/// IPv6; nullopt when the kernel does not answer (no sock_diag), for the caller to read /proc.
std::optional<std::vector<Listener>> diag_listeners(bool with_udp);

}  // namespace sbx
