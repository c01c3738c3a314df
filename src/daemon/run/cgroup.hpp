#pragma once
// cgroup v2 as sbxd uses it: one subtree that this daemon owns (SUBTREE =
// MOUNT/OWN_CGROUP/sbx-UID-HASH, HASH naming the state folder), and in it one cgroup per run,
// which the waiter moves the program into before the exec (shim/child.cpp) while it stays
// outside itself. A cgroup holds exactly the run's processes: none can leave it, whatever
// it does to its environment, session or parent.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::daemon {

/// SBX_TREE: "cgroup" (fail to start without one), "token" (never), or "auto" (unset: a
/// cgroup where the host gives a writable cgroup2, else the token).
inline constexpr const char* kTreeModeVar = "SBX_TREE";

/// The cgroup2 mount in /proc/self/mountinfo: its mount point and the cgroup it shows at it.
struct Cgroup2Mount {
  std::string point;
  std::string root;
};
std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo);
/// The cgroup of the "0::PATH" line of /proc/PID/cgroup.
std::optional<std::string> unified_cgroup_of(std::string_view proc_cgroup);
/// The directory of cgroup `path` (as /proc/PID/cgroup names it) under `mount`; nullopt when
/// the mount does not show it.
std::optional<std::string> cgroup_dir(const Cgroup2Mount& mount, const std::string& path);
/// What cgroup.events says of `populated`.
bool events_say_populated(std::string_view events);

class Cgroups {
 public:
  /// The subtree for the state folder `state_dir`, made if needed, or why there is none.
  static Result<Cgroups> open(const std::string& state_dir);
  Cgroups() = default;

  const std::string& subtree() const { return subtree_; }
  /// A new, empty cgroup in the subtree for a run of `id`.
  Result<std::string> create(const std::string& id);
  /// Sends `sig` to every process of `dir`; SIGKILL through cgroup.kill (kernel >= 5.14),
  /// which no fork races. Other signals go to each pid of cgroup.procs, read again while
  /// new ones appear; a process that exits between the read and the kill(2) could have
  /// its pid reused in that instant, as with any signal sent by pid.
  static void signal(const std::string& dir, int sig);
  /// True while a process is left in `dir` (false once it is gone).
  static bool populated(const std::string& dir);
  /// Removes `dir` if it is empty; true when it is gone.
  static bool remove(const std::string& dir);
  /// The run cgroups in the subtree.
  std::vector<std::string> children() const;
  /// Removes the subtree, if every cgroup in it is gone.
  void remove_subtree() const;

 private:
  std::string subtree_;
  std::uint64_t next_ = 0;
};

}  // namespace sbx::daemon
