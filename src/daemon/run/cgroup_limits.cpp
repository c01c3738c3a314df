#include "daemon/run/cgroup_limits.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

#include "common/atomic_file.hpp"

namespace sbx::daemon {

namespace {

constexpr std::int64_t kCpuPeriodUsec = 100'000;  ///< the kernel's default period

struct Limit {
  const char* option;
  const char* controller;
  const char* file;
};
constexpr Limit kMemory{"--memory-max", "memory", "memory.max"};
constexpr Limit kPids{"--pids-max", "pids", "pids.max"};
constexpr Limit kCpu{"--cpu-max", "cpu", "cpu.max"};

/// Each limit asked for, with the value its file takes.
std::vector<std::pair<Limit, std::string>> asked(const CgroupLimits& l) {
  std::vector<std::pair<Limit, std::string>> out;
  if (l.memory_max) out.emplace_back(kMemory, std::to_string(*l.memory_max));
  if (l.pids_max) out.emplace_back(kPids, std::to_string(*l.pids_max));
  if (l.cpu_max_pct) out.emplace_back(kCpu, cpu_max_value(*l.cpu_max_pct));
  return out;
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string parent_of(const std::string& dir) {
  auto slash = dir.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

}  // namespace

std::string CgroupLimits::first_option() const {
  auto a = asked(*this);
  return a.empty() ? "" : a.front().first.option;
}

CgroupLimits limits_of(const ProcessRecord& r) { return {r.memory_max, r.pids_max, r.cpu_max}; }

std::string cpu_max_value(std::int64_t pct) {
  return std::to_string(pct * kCpuPeriodUsec / 100) + " " + std::to_string(kCpuPeriodUsec);
}

void enable_controllers(const std::string& subtree) {
  auto offered = read_file(subtree + "/cgroup.controllers");
  if (!offered) return;
  for (const Limit& l : {kMemory, kPids, kCpu}) {
    if (!has_word(*offered, l.controller)) continue;
    int fd = ::open((subtree + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    std::string word = std::string("+") + l.controller;
    ssize_t ignored = ::write(fd, word.data(), word.size());
    (void)ignored;
    ::close(fd);
  }
}

Status check_controllers(const std::string& subtree, const CgroupLimits& limits) {
  if (limits.any()) enable_controllers(subtree);  // its parent may have enabled them since
  auto enabled = read_file(subtree + "/cgroup.subtree_control");
  std::string parent = parent_of(subtree);
  auto offered = read_file(parent + "/cgroup.controllers");
  for (const auto& [limit, value] : asked(limits)) {
    if (enabled && has_word(*enabled, limit.controller)) continue;
    std::string head = std::string(limit.option) + " needs the " + limit.controller + " controller";
    if (!offered || !has_word(*offered, limit.controller))
      return make_error(Errc::failed, head + ", which the cgroup " + parent +
                                          " does not have (its cgroup.controllers: '" +
                                          trimmed(offered ? *offered : "") +
                                          "'; on a hybrid host it belongs to cgroup v1)");
    return make_error(Errc::failed, head + ", which is not enabled for sbxd's cgroup " + subtree +
                                        ": enable it in " + parent + "/cgroup.subtree_control");
  }
  return ok_status();
}

Status write_limits(const std::string& dir, const CgroupLimits& limits) {
  for (const auto& [limit, value] : asked(limits)) {
    std::string path = dir + "/" + limit.file;
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    bool ok =
        fd >= 0 && ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    int why = errno;
    if (fd >= 0) ::close(fd);
    if (!ok)
      return make_error(Errc::failed, std::string(limit.option) + ": cannot write " + path + ": " +
                                          std::strerror(why));
  }
  return ok_status();
}

}  // namespace sbx::daemon
