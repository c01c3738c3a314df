#include "doctest.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "daemon/run/usage.hpp"
#include "temp_dir.hpp"

using namespace sbx::daemon;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// /proc/PID/stat of a process whose comm holds a ')' and a space: fields 14-17 are 100,
// 20, 7 and 3 ticks, field 24 (rss) 2048 pages.
constexpr const char* kStat =
    "4242 (odd) name) S 1 4242 4242 0 -1 4194560 900 0 0 0 100 20 7 3 20 0 1 0 2185300 "
    "16777216 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

}  // namespace

TEST_CASE("usage: a /proc/PID/stat line gives CPU ticks (own and reaped children's) and RSS") {
  auto u = parse_proc_stat_usage(kStat);
  REQUIRE(u);
  CHECK(u->state == 'S');
  CHECK(u->cpu_ticks == 100 + 20 + 7 + 3);
  CHECK(u->rss_pages == 2048);
  CHECK_FALSE(parse_proc_stat_usage("4242 (short) S 1 2 3"));
  CHECK_FALSE(parse_proc_stat_usage("no parenthesis at all"));
  CHECK_FALSE(parse_proc_stat_usage(""));
}

TEST_CASE("usage: cpu.stat's usage_usec, cgroup.procs' pids") {
  CHECK(parse_cpu_stat_usage("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n") ==
        123456u);
  CHECK(parse_cpu_stat_usage("user_usec 1\nusage_usec 77") == 77u);
  CHECK_FALSE(parse_cpu_stat_usage("user_usec 1\n"));
  CHECK_FALSE(parse_cpu_stat_usage("usage_usec x\n"));
  auto pids = parse_cgroup_procs("12\n345\n\n6789\n");
  CHECK(pids == std::vector<pid_t>{12, 345, 6789});
  CHECK(parse_cgroup_procs("").empty());
}

TEST_CASE("usage: /proc sums over the processes that are there") {
  Usage self = proc_usage({::getpid()});
  CHECK(self.pids == 1);
  CHECK(self.memory_bytes > 0);
  Usage none = proc_usage({});
  CHECK(none.pids == 0);
  CHECK(none.memory_bytes == 0);
  CHECK(none.cpu_usec == 0);
  // A pid that is no process counts for nothing.
  Usage gone = proc_usage({::getpid(), 999'999'999});
  CHECK(gone.pids == 1);
}

TEST_CASE("usage: a cgroup folder, with and without memory.current, nested cgroups counted") {
  TempDir dir;
  CHECK_FALSE(cgroup_usage(dir.path));  // neither cpu.stat nor cgroup.procs: no cgroup
  write(dir / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  CHECK_FALSE(cgroup_usage(dir.path));  // no cgroup.procs
  write(dir / "cgroup.procs", std::to_string(::getpid()) + "\n");
  auto u = cgroup_usage(dir.path);
  REQUIRE(u);
  CHECK(u->cpu_usec == 2'500'000);
  CHECK(u->pids == 1);
  // No memory controller: the resident set of its processes.
  Usage self = proc_usage({::getpid()});
  CHECK(u->memory_bytes > 0);
  CHECK(u->memory_bytes <= 2 * self.memory_bytes);
  write(dir / "memory.current", "67108864\n");
  u = cgroup_usage(dir.path);
  REQUIRE(u);
  CHECK(u->memory_bytes == 67108864);
  // A cgroup the program made below its own: its processes are the run's too.
  REQUIRE(::mkdir((dir / "inner").c_str(), 0700) == 0);
  write(dir / "inner/cgroup.procs", std::to_string(::getppid()) + "\n");
  u = cgroup_usage(dir.path);
  REQUIRE(u);
  CHECK(u->pids == 2);
  CHECK(u->cpu_usec == 2'500'000);  // cpu.stat at the top counts the cgroups below it
}
