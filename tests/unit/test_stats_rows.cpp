#include "doctest.hpp"

#include <boost/json/parse.hpp>

#include "cli/stats_rows.hpp"
#include "proto/requests_records.hpp"

using namespace sbx::cli;
namespace json = boost::json;

namespace {

StatsSample sample_of(const char* text) {
  auto s = parse_stats_reply(json::parse(text));
  REQUIRE(s);
  return *s;
}

}  // namespace

TEST_CASE("stats request: ids checked, none for every live process") {
  using sbx::proto::StatsRequest;
  auto all = StatsRequest::from_json(StatsRequest{}.to_json());
  REQUIRE(all);
  CHECK(all->ids.empty());
  auto two = StatsRequest::from_json(StatsRequest{{"a", "b"}}.to_json());
  REQUIRE(two);
  CHECK(two->ids == std::vector<std::string>{"a", "b"});
  CHECK(StatsRequest::from_json(json::object{{"ids", json::array{"no/id"}}}).error().code ==
        sbx::Errc::usage);
}

TEST_CASE("stats rows: the CPU share between two samples, of one core") {
  auto before = sample_of(R"({"sampled_us": 1000000, "processes": [
      {"id": "busy", "status": "running", "pid": 10, "sampled_us": 1000010, "cpu_usec": 500000,
       "memory_bytes": 4096, "pids": 1, "uptime_ms": 3000, "tree": "token"},
      {"id": "gone", "status": "running", "pid": 11, "sampled_us": 1000020, "cpu_usec": 9}]})");
  auto after = sample_of(R"({"sampled_us": 2000000, "processes": [
      {"id": "busy", "status": "running", "pid": 10, "sampled_us": 2000010, "cpu_usec": 1250000,
       "memory_bytes": 67108864, "pids": 2, "uptime_ms": 4000, "tree": "cgroup"},
      {"id": "new", "status": "running", "pid": 12, "sampled_us": 2000020, "cpu_usec": 250000,
       "memory_bytes": 1, "pids": 1, "uptime_ms": 400, "tree": "token"},
      {"id": "ended", "status": "completed", "sampled_us": 2000030, "cpu_usec": 0, "pids": 0}]})");
  auto rows = stats_between(before, after);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].now.id == "busy");
  CHECK(rows[0].cpu_percent == doctest::Approx(75.0));  // 0.75 s of CPU in 1 s
  CHECK(rows[0].now.memory_bytes == 67108864);
  CHECK(rows[0].now.tree == "cgroup");
  // Not in the first sample: all its CPU time is of the interval since it was taken.
  CHECK(rows[1].cpu_percent == doctest::Approx(25.0));
  CHECK(rows[2].cpu_percent == 0);

  // Another run of the same id (a restart): its time is not measured against the last one's.
  auto restarted = sample_of(R"({"sampled_us": 2000000, "processes": [
      {"id": "busy", "status": "running", "pid": 99, "sampled_us": 2000010, "cpu_usec": 100000,
       "uptime_ms": 200}]})");
  CHECK(stats_between(before, restarted)[0].cpu_percent == doctest::Approx(10.0));

  auto json_rows = stats_json(rows);
  REQUIRE(json_rows.size() == 3);
  const auto& first = json_rows[0].as_object();
  for (const char* key :
       {"id", "cpu_percent", "memory_bytes", "pids", "uptime_ms", "status", "tree"})
    CHECK_MESSAGE(first.contains(key), key);
  CHECK_FALSE(json_rows[2].as_object().contains("uptime_ms"));
}

TEST_CASE("stats rows: a table, and memory in binary units") {
  CHECK(format_memory(812) == "812B");
  CHECK(format_memory(12 * 1024) == "12.0KiB");
  CHECK(format_memory(64ULL << 20) == "64.0MiB");
  CHECK(format_memory(3ULL << 30) == "3.0GiB");
  auto after = sample_of(R"({"sampled_us": 0, "processes": [
      {"id": "web", "status": "running", "pid": 7, "sampled_us": 0, "cpu_usec": 0,
       "memory_bytes": 2048, "pids": 3, "uptime_ms": 125000},
      {"id": "job", "status": "failed", "sampled_us": 0}]})");
  std::string table = format_stats_table(stats_between(after, after));
  CHECK(table ==
        "ID   STATUS   CPU%  MEMORY  PIDS  UPTIME\n"
        "web  running  0.0   2.0KiB  3     2m5s\n"
        "job  failed   -     -       0     -\n");
  CHECK_FALSE(parse_stats_reply(json::parse("[]")));
}
