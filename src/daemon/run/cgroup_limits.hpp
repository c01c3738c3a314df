#pragma once
// The limits a run's cgroup can hold (start --memory-max, --pids-max, --cpu-max) and the
// controllers they need: each is enabled in the subtree's cgroup.subtree_control where its
// parent offers it, and an option whose controller is missing is refused, saying why.

#include <cstdint>
#include <optional>
#include <string>

#include "common/record.hpp"
#include "common/result.hpp"

namespace sbx::daemon {

struct CgroupLimits {
  std::optional<std::int64_t> memory_max;   ///< bytes: memory.max
  std::optional<std::int64_t> pids_max;     ///< pids.max
  std::optional<std::int64_t> cpu_max_pct;  ///< 100 = one core: cpu.max

  bool any() const { return memory_max || pids_max || cpu_max_pct; }
  /// The option of the first limit asked for, "--memory-max" say.
  std::string first_option() const;
};

CgroupLimits limits_of(const ProcessRecord& r);

/// cpu.max for `pct` percent of one core: "QUOTA PERIOD" in microseconds.
std::string cpu_max_value(std::int64_t pct);

/// Enables, in `subtree`'s cgroup.subtree_control, each controller a limit needs that its
/// cgroup.controllers offers. Best effort: what is missing is said by check_controllers.
void enable_controllers(const std::string& subtree);
/// Why the cgroups in `subtree` cannot hold `limits`, if they cannot.
Status check_controllers(const std::string& subtree, const CgroupLimits& limits);
/// Writes memory.max, pids.max and cpu.max of the cgroup `dir` for the limits asked.
Status write_limits(const std::string& dir, const CgroupLimits& limits);

}  // namespace sbx::daemon
