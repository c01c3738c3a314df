#pragma once
// `sbx stats`: two samples of the daemon's usage figures (daemon/run/usage.hpp) made into
// rows (the CPU share between them), and the rows as a table or JSON.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sbx::cli {

/// One reply to a stats request.
struct StatsSample {
  struct Process {
    std::string id;
    std::string status;
    std::string tree;  ///< "cgroup" or "token": where the figures come from
    std::optional<std::int64_t> pid;
    std::int64_t sampled_us = 0;  ///< when (the daemon's monotonic clock)
    std::uint64_t cpu_usec = 0;   ///< CPU time so far
    std::uint64_t memory_bytes = 0;
    std::uint64_t pids = 0;
    std::optional<std::int64_t> uptime_ms;  ///< live ones
  };
  std::int64_t sampled_us = 0;  ///< before any of its processes
  std::vector<Process> processes;
};
Result<StatsSample> parse_stats_reply(const boost::json::value& v);

struct StatsRow {
  StatsSample::Process now;
  double cpu_percent = 0;  ///< of one core, between the two samples
};

/// The processes of `after`, each with its CPU share since `before`. One missing from
/// `before`, or another run of it (another pid), started after it: all its CPU time is
/// of the interval.
std::vector<StatsRow> stats_between(const StatsSample& before, const StatsSample& after);

/// JSON rows: id, status, cpu_percent, memory_bytes, pids, uptime_ms, tree.
boost::json::array stats_json(const std::vector<StatsRow>& rows);
/// ID STATUS CPU% MEMORY PIDS UPTIME, aligned.
std::string format_stats_table(const std::vector<StatsRow>& rows);
/// "812B", "12.0KiB", "64.3MiB", "1.2GiB".
std::string format_memory(std::uint64_t bytes);

}  // namespace sbx::cli
