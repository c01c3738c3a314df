#include "common/proc.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/fd.hpp"

namespace sbx {
namespace {

/// The fields after "(comm)" of /proc/PID/stat, starting with the state (field 3).
std::optional<std::string> stat_tail(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[1024];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string s(buf, static_cast<size_t>(n));
  auto close = s.rfind(')');  // comm may itself hold ')' or spaces
  if (close == std::string::npos || close + 2 >= s.size()) return std::nullopt;
  return s.substr(close + 2);
}

}  // namespace

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
  auto tail = stat_tail(pid);
  if (!tail) return std::nullopt;
  // tail starts at field 3; field 22 is the 20th token of the tail.
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = tail->find(' ', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
  }
  try {
    return std::stoull(tail->substr(pos));
  } catch (...) {
    return std::nullopt;
  }
}

bool process_alive(pid_t pid, std::optional<std::uint64_t> start_ticks) {
  if (pid <= 1) return false;
  auto tail = stat_tail(pid);
  if (!tail || tail->empty() || (*tail)[0] == 'Z' || (*tail)[0] == 'X') return false;
  if (!start_ticks) return true;
  auto now = process_start_ticks(pid);
  return now && *now == *start_ticks;
}

bool group_alive(pid_t pgid) {
  if (pgid <= 1) return false;
  return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

std::optional<pid_t> parent_pid(pid_t pid) {
  auto tail = stat_tail(pid);
  if (!tail) return std::nullopt;
  auto sp = tail->find(' ');  // field 3 (state), then field 4 (ppid)
  if (sp == std::string::npos) return std::nullopt;
  return static_cast<pid_t>(std::atol(tail->c_str() + sp + 1));
}

namespace {

bool descends_from(pid_t pid, pid_t ancestor) {
  for (int depth = 0; depth < 128 && pid > 1; ++depth) {
    auto parent = parent_pid(pid);
    if (!parent) return false;
    if (*parent == ancestor) return true;
    pid = *parent;
  }
  return false;
}

bool environ_has(pid_t pid, const std::string& needle) {
  std::string path = "/proc/" + std::to_string(pid) + "/environ";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  std::string env;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    env.append(buf, static_cast<size_t>(n));
  }
  // Each entry ends with a NUL; match whole entries only.
  for (size_t pos = 0; pos < env.size();) {
    size_t end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (env.compare(pos, end - pos, needle) == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::vector<pid_t> tagged_descendants(const std::string& id, pid_t ancestor) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir("/proc");
  if (!dir) return out;
  std::string needle = "SBX_PROCESS_ID=" + id;
  pid_t self = ::getpid();
  while (auto* ent = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == self) continue;
    if (environ_has(static_cast<pid_t>(pid), needle) && descends_from(static_cast<pid_t>(pid), ancestor)) {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(dir);
  return out;
}

}  // namespace sbx
