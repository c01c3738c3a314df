#pragma once
// Whether a wait-port's port is served by the process's own tree, and where to probe it:
// a server left over from another run that holds the port must not make the run ready.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sbx::daemon {

struct OwnedPort {
  int port = 0;                       ///< 0: the tree serves nothing that fits
  std::vector<std::string> hosts;     ///< the asked hosts that reach the tree's listener
  std::string detail;                 ///< why not, when port is 0
  std::vector<std::uint64_t> others;  ///< sockets of other processes that listen on the port
  bool asked_tree = false;            ///< false: nothing listens on the port, tree not needed
};

/// Looks at the TCP listeners of this process's network namespace, and at those among them
/// that the processes `tree()` gives hold (asked only when something listens on the port).
/// `port` 0: the first port the tree listened on (its oldest socket) that one of `hosts`
/// reaches. `who` names the process in the details.
OwnedPort find_owned_port(const std::function<std::vector<pid_t>()>& tree, int port,
                          const std::vector<std::string>& hosts, const std::string& who);

/// "pid 123 (python3 -m http.server 8000)", the holder of one of the sockets `others`;
/// "a process sbx cannot inspect" when none can be seen (another user's).
std::string describe_holder(const std::vector<std::uint64_t>& others);

}  // namespace sbx::daemon
