#pragma once
// Facts about live processes from /proc.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace sbx {

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
/// A pid that comes back with another start time is another process (pid reuse).
std::optional<std::uint64_t> process_start_ticks(pid_t pid);

/// True while a process with this pid exists and, if `start_ticks` is given, is the
/// same process. A zombie counts as gone.
bool process_alive(pid_t pid, std::optional<std::uint64_t> start_ticks = std::nullopt);

/// True while any process is left in process group `pgid` (> 1); zombies count.
bool group_alive(pid_t pgid);

}  // namespace sbx
