#pragma once
// Facts about live processes from /proc.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

/// Every process's process group, (pid, pgid), read from /proc in one pass; zombies too.
std::vector<std::pair<pid_t, pid_t>> scan_process_groups();

/// The environment variable that marks every process of one run: SBX_RUN_TOKEN=<token>.
/// A token is random and never reused, so a match is that run's process, whichever
/// daemon started it and whoever its parent is now (a double fork, setsid, or an sbxd
/// that was replaced). Processes that cleared their environment cannot be found this way.
inline constexpr const char* kRunTokenVar = "SBX_RUN_TOKEN";
std::string new_run_token();

/// Every process's SBX_RUN_TOKEN, read from /proc in one pass (processes of other users
/// and those without the variable are left out).
std::vector<std::pair<pid_t, std::string>> scan_run_tokens();

/// A child of `parent` (any of its threads') whose environment has name=value, if any.
std::optional<pid_t> child_with_env(pid_t parent, std::string_view name, const std::string& value);

/// `root` and every live descendant of it (by parent, through each thread's children).
std::vector<pid_t> descendants(pid_t root);

/// What pid runs, for people: its argv joined by spaces (its name in brackets, as ps(1)
/// shows it, when it has none), "" once it is gone.
std::string process_command(pid_t pid);

/// This boot's id (/proc/sys/kernel/random/boot_id), or "" when it cannot be read. Start
/// ticks count from boot: a pid and its start ticks name a process within one boot only.
std::string read_boot_id();

}  // namespace sbx
