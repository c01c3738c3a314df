#pragma once
// What a run's tree uses: its CPU time so far, its memory and its processes, read at one
// moment. From the run's cgroup when its record names one (cpu.stat's usage_usec needs no
// controller; memory.current only the memory controller), else summed over the tree's
// processes in /proc. CPU time only grows: a share of a core needs two samples, and the
// client takes them a second apart, so the daemon never waits for one.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx::daemon {

struct Usage {
  std::uint64_t cpu_usec = 0;      ///< user + system CPU time of the tree so far
  std::uint64_t memory_bytes = 0;  ///< memory.current, else the sum of resident sets
  std::uint64_t pids = 0;          ///< processes (not threads), zombies left out
};

/// The figures of one /proc/PID/stat line.
struct ProcStatUsage {
  char state = '?';
  /// utime + stime + cutime + cstime, in clock ticks: what the process used, and what its
  /// children that it reaped used (a make's compilers), so the sum over a tree does not
  /// drop when one of them ends.
  std::uint64_t cpu_ticks = 0;
  std::uint64_t rss_pages = 0;
};
std::optional<ProcStatUsage> parse_proc_stat_usage(std::string_view line);

/// usage_usec in the text of a cgroup's cpu.stat.
std::optional<std::uint64_t> parse_cpu_stat_usage(std::string_view text);

/// The pids of a cgroup.procs file, one a line.
std::vector<pid_t> parse_cgroup_procs(std::string_view text);

/// Summed over `pids` from /proc; a process gone by now, or a zombie, counts for nothing.
Usage proc_usage(const std::vector<pid_t>& pids);

/// The processes of cgroup folder `dir` and of the cgroups below it.
std::vector<pid_t> cgroup_pids(const std::string& dir);

/// The figures of cgroup folder `dir` and the ones below it; nullopt when it has no
/// readable cpu.stat and cgroup.procs (it was removed). Without memory.current (no memory
/// controller), memory is the sum of its processes' resident sets.
std::optional<Usage> cgroup_usage(const std::string& dir);

}  // namespace sbx::daemon
