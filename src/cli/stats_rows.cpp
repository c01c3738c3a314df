#include "cli/stats_rows.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "cli/output.hpp"
#include "common/duration.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

std::optional<std::int64_t> int_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::string string_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::uint64_t count_at(const json::object& o, const char* key) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_at(o, key).value_or(0)));
}

bool live(const StatsSample::Process& p) { return p.status == "running" || p.status == "starting"; }

}  // namespace

Result<StatsSample> parse_stats_reply(const json::value& v) {
  const auto* o = v.if_object();
  const auto* list = o ? o->if_contains("processes") : nullptr;
  if (!list || !list->is_array())
    return make_error(Errc::protocol, "stats: unexpected reply from sbxd");
  StatsSample s;
  s.sampled_us = int_at(*o, "sampled_us").value_or(0);
  for (const auto& e : list->get_array()) {
    const auto* p = e.if_object();
    if (!p) return make_error(Errc::protocol, "stats: unexpected reply from sbxd");
    StatsSample::Process q;
    q.id = string_at(*p, "id");
    q.status = string_at(*p, "status");
    q.tree = string_at(*p, "tree");
    q.pid = int_at(*p, "pid");
    q.sampled_us = int_at(*p, "sampled_us").value_or(s.sampled_us);
    q.cpu_usec = count_at(*p, "cpu_usec");
    q.memory_bytes = count_at(*p, "memory_bytes");
    q.pids = count_at(*p, "pids");
    q.uptime_ms = int_at(*p, "uptime_ms");
    s.processes.push_back(std::move(q));
  }
  return s;
}

std::vector<StatsRow> stats_between(const StatsSample& before, const StatsSample& after) {
  std::vector<StatsRow> rows;
  rows.reserve(after.processes.size());
  for (const auto& now : after.processes) {
    StatsRow row{now, 0.0};
    auto was = std::find_if(before.processes.begin(), before.processes.end(),
                            [&now](const StatsSample::Process& p) { return p.id == now.id; });
    bool same_run = was != before.processes.end() && was->pid == now.pid && was->pid;
    std::uint64_t from_cpu = same_run ? was->cpu_usec : 0;
    std::int64_t from_us = same_run ? was->sampled_us : before.sampled_us;
    std::int64_t span = now.sampled_us - from_us;
    if (live(now) && span > 0 && now.cpu_usec > from_cpu) {
      double share =
          100.0 * static_cast<double>(now.cpu_usec - from_cpu) / static_cast<double>(span);
      row.cpu_percent = std::round(share * 10) / 10;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

json::array stats_json(const std::vector<StatsRow>& rows) {
  json::array out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    json::object o;
    o["id"] = r.now.id;
    o["status"] = r.now.status;
    if (r.now.pid) o["pid"] = *r.now.pid;
    o["cpu_percent"] = r.cpu_percent;
    o["memory_bytes"] = r.now.memory_bytes;
    o["pids"] = r.now.pids;
    if (r.now.uptime_ms) o["uptime_ms"] = *r.now.uptime_ms;
    o["tree"] = r.now.tree;
    out.emplace_back(std::move(o));
  }
  return out;
}

std::string format_memory(std::uint64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double v = static_cast<double>(bytes);
  std::size_t unit = 0;
  for (v /= 1024; v >= 1024 && unit + 1 < std::size(kUnits); ++unit) v /= 1024;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[unit]);
  return buf;
}

std::string format_stats_table(const std::vector<StatsRow>& rows) {
  std::vector<std::vector<std::string>> lines;
  lines.push_back({"ID", "STATUS", "CPU%", "MEMORY", "PIDS", "UPTIME"});
  for (const auto& r : rows) {
    char cpu[32];
    std::snprintf(cpu, sizeof cpu, "%.1f", r.cpu_percent);
    bool shown = live(r.now);
    std::string up = "-";
    if (shown && r.now.uptime_ms) {
      auto whole_s = *r.now.uptime_ms / 1000 * 1000;
      up = whole_s > 0 ? format_duration(Millis(whole_s)) : "0s";
    }
    lines.push_back({r.now.id, r.now.status, shown ? cpu : "-",
                     shown ? format_memory(r.now.memory_bytes) : "-", std::to_string(r.now.pids),
                     up});
  }
  return format_columns(lines);
}

}  // namespace sbx::cli
