#pragma once
// Facts about live processes from /proc.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sbx {

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
/// A pid that comes back with another start time is another process (pid reuse).
std::optional<std::uint64_t> process_start_ticks(pid_t pid);

/// True while a process with this pid exists and, if `start_ticks` is given, is the
/// same process. A zombie counts as gone.
bool process_alive(pid_t pid, std::optional<std::uint64_t> start_ticks = std::nullopt);

/// True while any process is left in process group `pgid` (> 1); zombies count.
bool group_alive(pid_t pgid);

/// Processes whose environment holds SBX_PROCESS_ID=`id` and that descend from `ancestor`
/// (sbxd, a subreaper, so a process that double-forked or called setsid is still below
/// it). Processes that cleared their environment cannot be found this way.
std::vector<pid_t> tagged_descendants(const std::string& id, pid_t ancestor);

/// The parent pid from /proc/PID/stat; nullopt when the process is gone.
std::optional<pid_t> parent_pid(pid_t pid);

}  // namespace sbx
