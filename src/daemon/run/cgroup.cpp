#include "daemon/run/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/clock.hpp"

namespace sbx::daemon {

namespace {

/// How often the processes of a cgroup are signalled, at most, while new ones (forked
/// meanwhile) keep appearing in cgroup.procs.
constexpr int kSignalRounds = 4;

std::string field(std::istringstream& in) {
  std::string s;
  in >> s;
  return s;
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (std::size_t k = 1; k <= 3; ++k) {
        if (s[i + k] < '0' || s[i + k] > '7') octal = false;
        v = v * 8 + (s[i + k] - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool write_text(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

/// A short stable digest of the state folder: two daemons of two homes own two subtrees.
std::string digest(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 12);
}

}  // namespace

std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo) {
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    std::istringstream in(line);
    field(in), field(in), field(in);
    std::string root = field(in), point = field(in);
    std::string word;
    while (in >> word && word != "-") {
    }
    if (word == "-" && field(in) == "cgroup2") return Cgroup2Mount{unescape(point), unescape(root)};
  }
  return std::nullopt;
}

std::optional<std::string> unified_cgroup_of(std::string_view proc_cgroup) {
  std::istringstream lines{std::string(proc_cgroup)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return std::nullopt;
}

std::optional<std::string> cgroup_dir(const Cgroup2Mount& mount, const std::string& path) {
  std::string root = mount.root == "/" ? "" : mount.root;
  if (!root.empty() && path != root && !path.starts_with(root + "/")) return std::nullopt;
  std::string rest = path.substr(root.size());
  if (rest == "/") rest.clear();
  return mount.point + rest;
}

bool events_say_populated(std::string_view events) {
  auto at = events.find("populated ");
  return at != std::string_view::npos && at + 10 < events.size() && events[at + 10] == '1';
}

Result<Cgroups> Cgroups::open(const std::string& state_dir) {
  auto mountinfo = read_file("/proc/self/mountinfo");
  auto mount = mountinfo ? find_cgroup2_mount(*mountinfo) : std::nullopt;
  if (!mount) return make_error(Errc::failed, "no cgroup2 file system is mounted");
  auto own = read_file("/proc/self/cgroup");
  auto own_path = own ? unified_cgroup_of(*own) : std::nullopt;
  auto own_dir = own_path ? cgroup_dir(*mount, *own_path) : std::nullopt;
  if (!own_dir)
    return make_error(Errc::failed,
                      "sbxd's own cgroup is not under the cgroup2 mount " + mount->point);
  Cgroups c;
  c.subtree_ = *own_dir + "/sbx-" + std::to_string(::getuid()) + "-" + digest(state_dir);
  if (::mkdir(c.subtree_.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error(Errc::failed,
                      "cannot make the cgroup " + c.subtree_ + ": " + std::strerror(errno));
  // Moving the program needs write access to the procs file of the common ancestor.
  if (::access((*own_dir + "/cgroup.procs").c_str(), W_OK) != 0 ||
      ::access((c.subtree_ + "/cgroup.procs").c_str(), W_OK) != 0)
    return make_error(Errc::failed,
                      "cannot move processes into " + c.subtree_ + ": " + std::strerror(errno));
  c.next_ = static_cast<std::uint64_t>(now_epoch_ms());
  return c;
}

Result<std::string> Cgroups::create(const std::string& id) {
  for (;;) {
    std::string dir = subtree_ + "/" + id + "." + std::to_string(next_++);
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST)
      return make_error(Errc::failed,
                        "cannot make its cgroup " + dir + ": " + std::strerror(errno));
  }
}

void Cgroups::signal(const std::string& dir, int sig) {
  if (dir.empty()) return;
  if (sig == SIGKILL && write_text(dir + "/cgroup.kill", "1")) return;
  // A process may fork between the read and the signal: read again until no new one shows.
  std::set<pid_t> sent;
  for (int round = 0; round < kSignalRounds; ++round) {
    auto procs = read_file(dir + "/cgroup.procs");
    if (!procs) return;
    bool any_new = false;
    std::istringstream in(*procs);
    long pid = 0;
    while (in >> pid) {
      if (pid <= 1 || !sent.insert(static_cast<pid_t>(pid)).second) continue;
      ::kill(static_cast<pid_t>(pid), sig);
      any_new = true;
    }
    if (!any_new) return;
  }
}

bool Cgroups::populated(const std::string& dir) {
  auto events = read_file(dir + "/cgroup.events");
  return events && events_say_populated(*events);
}

bool Cgroups::remove(const std::string& dir) {
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

std::vector<std::string> Cgroups::children() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(subtree_.c_str());
  if (!d) return out;
  while (auto* ent = ::readdir(d)) {
    if (ent->d_type == DT_DIR && ent->d_name[0] != '.') out.push_back(subtree_ + "/" + ent->d_name);
  }
  ::closedir(d);
  return out;
}

void Cgroups::remove_subtree() const {
  for (const auto& dir : children()) remove(dir);
  if (!subtree_.empty()) remove(subtree_);
}

}  // namespace sbx::daemon
