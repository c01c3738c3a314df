#pragma once
// Listening sockets from /proc: the tables of a network namespace (/proc/PID/net/{tcp,tcp6,
// udp,udp6}, or sock_diag for our own) and the socket:[INODE] descriptors of processes,
// joined by inode. A TCP socket
// listens in state LISTEN; a UDP socket "listens" when it is bound to a port and connected
// to no peer. Sockets of processes whose /proc/PID/fd cannot be read (another user's) are
// not seen.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx {

struct Listener {
  std::string proto;    ///< "tcp" or "udp"
  std::string address;  ///< numeric: "127.0.0.1", "::", "::ffff:10.0.0.1"
  int port = 0;
  std::uint64_t inode = 0;  ///< the socket's inode, unique while it is open; grows with time
};

/// The listening sockets of one table's text (tcp: state LISTEN; udp: bound, no peer).
/// Lines that do not parse are skipped.
std::vector<Listener> parse_net_table(std::string_view text, std::string_view proto, bool v6);

/// The listening sockets of pid's network namespace (pid 0: this process's); TCP only
/// unless `with_udp`. This process's own namespace is asked through sock_diag
/// (common/sock_diag.hpp), another's, or where that fails, read from /proc.
std::vector<Listener> read_listeners(pid_t pid, bool with_udp);
/// The same, always from /proc/PID/net/{tcp,tcp6,udp,udp6}.
std::vector<Listener> read_proc_listeners(pid_t pid, bool with_udp);

/// The inodes of the sockets among pid's open descriptors (empty when unreadable).
std::vector<std::uint64_t> socket_inodes(pid_t pid);

/// The id of pid's network namespace ("net:[4026531840]"), "" when unreadable.
std::string net_namespace(pid_t pid);

/// True when a connection to `host` (numeric) reaches a socket bound to `address`: the
/// same address, or a wildcard of its family (IPv6's "::" takes IPv4 too, unless the
/// socket is IPv6-only, which /proc does not say).
bool address_covers(const std::string& address, const std::string& host);

struct HeldListener {
  Listener listener;
  pid_t pid = 0;  ///< the first of the given pids that holds it
};

/// The listeners among `table` that `pids` hold, each socket once, ordered by port,
/// protocol and address.
std::vector<HeldListener> held_by(const std::vector<pid_t>& pids,
                                  const std::vector<Listener>& table);

/// The listeners of a set of processes, each read in its own network namespace; the
/// tables are read once per namespace for the life of this object.
class ListenerScan {
 public:
  explicit ListenerScan(bool with_udp) : with_udp_(with_udp) {}
  std::vector<HeldListener> of(const std::vector<pid_t>& pids);

 private:
  bool with_udp_;
  std::map<std::string, std::vector<Listener>> tables_;  ///< by net_namespace()
};

/// Some process (of those this one can inspect) that holds one of these socket inodes.
std::optional<pid_t> find_socket_holder(const std::vector<std::uint64_t>& inodes);

}  // namespace sbx
