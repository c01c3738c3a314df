#include "common/proc.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace sbx
