#include "daemon/run/usage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "common/atomic_file.hpp"
#include "common/fd.hpp"

namespace sbx::daemon {
namespace {

/// A decimal number at the start of `s` (after blanks); nullopt if none.
std::optional<std::uint64_t> number_at(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

std::optional<std::string> read_small(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  return std::move(*text);
}

void collect_procs(const std::string& dir, std::vector<pid_t>& out, int depth) {
  if (auto text = read_small(dir + "/cgroup.procs")) {
    auto pids = parse_cgroup_procs(*text);
    out.insert(out.end(), pids.begin(), pids.end());
  }
  if (depth >= 16) return;  // a run that nests cgroups deeper is still counted at the top
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (auto* ent = ::readdir(d)) {
    if (ent->d_type == DT_DIR && ent->d_name[0] != '.')
      collect_procs(dir + "/" + ent->d_name, out, depth + 1);
  }
  ::closedir(d);
}

}  // namespace

std::vector<pid_t> cgroup_pids(const std::string& dir) {
  std::vector<pid_t> out;
  collect_procs(dir, out, 0);
  return out;
}

std::optional<ProcStatUsage> parse_proc_stat_usage(std::string_view line) {
  auto close = line.rfind(')');  // comm may itself hold ')' or spaces
  if (close == std::string_view::npos || close + 2 >= line.size()) return std::nullopt;
  std::string_view tail = line.substr(close + 2);  // field 3 (state) on
  // Fields 14-17 (utime, stime, cutime, cstime) and 24 (rss), counted from 1.
  ProcStatUsage u;
  u.state = tail[0];
  int field = 3;
  std::size_t pos = 0;
  while (field < 24) {
    pos = tail.find(' ', pos);
    if (pos == std::string_view::npos) return std::nullopt;
    ++pos;
    ++field;
    if ((field >= 14 && field <= 17) || field == 24) {
      // cutime and cstime are signed in the kernel's format; never negative in practice.
      auto v = number_at(tail.substr(pos));
      if (!v) return std::nullopt;
      if (field == 24)
        u.rss_pages = *v;
      else
        u.cpu_ticks += *v;
    }
  }
  return u;
}

std::optional<std::uint64_t> parse_cpu_stat_usage(std::string_view text) {
  constexpr std::string_view kKey = "usage_usec ";
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with(kKey)) return number_at(line.substr(kKey.size()));
    pos = end + 1;
  }
  return std::nullopt;
}

std::vector<pid_t> parse_cgroup_procs(std::string_view text) {
  std::vector<pid_t> out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (auto v = number_at(text.substr(pos, end - pos)); v && *v > 0)
      out.push_back(static_cast<pid_t>(*v));
    pos = end + 1;
  }
  return out;
}

Usage proc_usage(const std::vector<pid_t>& pids) {
  static const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
  static const long page = ::sysconf(_SC_PAGESIZE);
  Usage u;
  std::uint64_t ticks = 0;
  for (pid_t pid : pids) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) continue;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) continue;
    auto s = parse_proc_stat_usage(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!s || s->state == 'Z' || s->state == 'X') continue;
    ticks += s->cpu_ticks;
    u.memory_bytes += s->rss_pages * static_cast<std::uint64_t>(page);
    ++u.pids;
  }
  u.cpu_usec = ticks * 1'000'000 / static_cast<std::uint64_t>(ticks_per_s > 0 ? ticks_per_s : 100);
  return u;
}

std::optional<Usage> cgroup_usage(const std::string& dir) {
  auto cpu_stat = read_small(dir + "/cpu.stat");
  auto cpu = cpu_stat ? parse_cpu_stat_usage(*cpu_stat) : std::nullopt;
  if (!cpu || ::access((dir + "/cgroup.procs").c_str(), R_OK) != 0) return std::nullopt;
  std::vector<pid_t> pids;
  collect_procs(dir, pids, 0);
  Usage from_proc = proc_usage(pids);
  Usage u;
  u.cpu_usec = *cpu;  // of every process that ever ran in it, ended ones too
  u.pids = from_proc.pids;
  auto memory = read_small(dir + "/memory.current");
  auto current = memory ? number_at(*memory) : std::nullopt;
  u.memory_bytes = current ? *current : from_proc.memory_bytes;
  return u;
}

}  // namespace sbx::daemon
