#include "common/proc.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

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

std::vector<std::pair<pid_t, pid_t>> scan_process_groups() {
  std::vector<std::pair<pid_t, pid_t>> out;
  DIR* dir = ::opendir("/proc");
  if (!dir) return out;
  while (auto* ent = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (*end != '\0' || pid <= 1) continue;
    auto tail = stat_tail(static_cast<pid_t>(pid));  // "S PPID PGRP ..."
    long group = 0;
    if (tail && std::sscanf(tail->c_str(), "%*c %*d %ld", &group) == 1)
      out.emplace_back(static_cast<pid_t>(pid), static_cast<pid_t>(group));
  }
  ::closedir(dir);
  return out;
}

namespace {

/// The value of `name` in /proc/PID/environ, or "" when absent or unreadable.
std::string environ_value(pid_t pid, std::string_view name) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/environ", static_cast<int>(pid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string env;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    env.append(buf, static_cast<size_t>(n));
  }
  for (size_t pos = 0; pos < env.size();) {  // NUL-separated NAME=VALUE entries
    size_t end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    std::string_view entry(env.data() + pos, end - pos);
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') {
      return std::string(entry.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

std::string new_run_token() {
  unsigned char bytes[16] = {};
  // getrandom(2): no descriptor to open per start, and 16 bytes never come back short.
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    auto seed = static_cast<unsigned long long>(::getpid()) ^
                static_cast<unsigned long long>(::time(nullptr));
    for (auto& b : bytes)
      b = static_cast<unsigned char>(seed = seed * 6364136223846793005ULL + 1442695040888963407ULL);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::vector<std::pair<pid_t, std::string>> scan_run_tokens() {
  std::vector<std::pair<pid_t, std::string>> out;
  DIR* dir = ::opendir("/proc");
  if (!dir) return out;
  pid_t self = ::getpid();
  while (auto* ent = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == self) continue;
    std::string token = environ_value(static_cast<pid_t>(pid), kRunTokenVar);
    if (!token.empty()) out.emplace_back(static_cast<pid_t>(pid), std::move(token));
  }
  ::closedir(dir);
  return out;
}

std::optional<pid_t> child_with_env(pid_t parent, std::string_view name, const std::string& value) {
  if (value.empty()) return std::nullopt;
  std::string tasks = "/proc/" + std::to_string(parent) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (!dir) return std::nullopt;
  std::optional<pid_t> found;
  while (auto* ent = ::readdir(dir)) {
    if (ent->d_name[0] == '.') continue;
    UniqueFd fd(::open((tasks + "/" + ent->d_name + "/children").c_str(), O_RDONLY | O_CLOEXEC));
    char buf[4096];
    ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
    if (n <= 0) continue;
    buf[n] = '\0';
    for (char* p = buf; *p && !found;) {
      char* end = nullptr;
      long pid = std::strtol(p, &end, 10);
      if (end == p) break;
      p = end;
      if (pid > 1 && environ_value(static_cast<pid_t>(pid), name) == value)
        found = static_cast<pid_t>(pid);
    }
    if (found) break;
  }
  ::closedir(dir);
  return found;
}

namespace {

/// Appends the children of pid (of every thread of it) to out.
void append_children(pid_t pid, std::vector<pid_t>& out) {
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (!dir) return;
  while (auto* ent = ::readdir(dir)) {
    if (ent->d_name[0] == '.') continue;
    UniqueFd fd(::open((tasks + "/" + ent->d_name + "/children").c_str(), O_RDONLY | O_CLOEXEC));
    std::string text;
    char buf[4096];
    for (ssize_t n; fd && (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
      text.append(buf, static_cast<size_t>(n));
    for (const char* p = text.c_str(); *p;) {
      char* end = nullptr;
      long child = std::strtol(p, &end, 10);
      if (end == p) break;
      p = end;
      if (child > 1) out.push_back(static_cast<pid_t>(child));
    }
  }
  ::closedir(dir);
}

}  // namespace

std::vector<pid_t> descendants(pid_t root) {
  std::vector<pid_t> out;
  if (root <= 1 || !process_alive(root)) return out;
  out.push_back(root);
  for (size_t i = 0; i < out.size() && out.size() < 100000; ++i) append_children(out[i], out);
  return out;
}

std::string process_command(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  UniqueFd fd(::open((base + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  char buf[4096];
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
  if (n > 0) out.assign(buf, static_cast<size_t>(n));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  for (char& c : out) c = c == '\0' ? ' ' : c;
  if (!out.empty()) return out;
  UniqueFd comm(::open((base + "/comm").c_str(), O_RDONLY | O_CLOEXEC));
  n = comm ? ::read(comm.get(), buf, sizeof buf) : -1;
  if (n <= 0) return out;
  std::string name(buf, static_cast<size_t>(n));
  if (name.back() == '\n') name.pop_back();
  return "[" + name + "]";
}

std::string read_boot_id() {
  UniqueFd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
  char buf[64];
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
  if (n <= 0) return {};
  std::string id(buf, static_cast<size_t>(n));
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

}  // namespace sbx
