#pragma once
// Who a run's program runs as (`start --user USER[:GROUP]`), resolved by sbxd from the
// user and group databases (user_db.hpp) before the waiter is started: the waiter's child
// only sets what it is given (shim/protocol.hpp), since a lookup is not async-signal-safe.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::daemon {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups: the user's (initgroups), and gid
  std::string name;           ///< the user's name; empty for a uid with no entry
  std::string home;           ///< its home folder; empty when it has none
};

/// Resolves USER[:GROUP] (names or numbers; without GROUP, the user's own group). nullopt
/// when `spec` is empty or names the daemon's own user and group (`self_uid`, `self_gid`):
/// nothing to change. Another user needs a daemon that runs as root: refused otherwise.
Result<std::optional<RunAs>> resolve_run_as(std::string_view spec, uid_t self_uid, gid_t self_gid);

/// The waiter's USER argument (shim/protocol.hpp) for `as`.
std::string waiter_user_arg(const std::optional<RunAs>& as);

/// `envp` with HOME, USER and LOGNAME of `as` (as login(1) and systemd's User= set them),
/// but for those in `overrides` (the run's -e): those stay as the caller set them.
std::vector<std::string> env_for(const std::vector<std::string>& envp, const RunAs& as,
                                 const std::vector<std::string>& overrides);

}  // namespace sbx::daemon
