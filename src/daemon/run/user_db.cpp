#include "daemon/run/user_db.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/fd.hpp"
#include "common/spawn_session.hpp"

namespace sbx::daemon {
namespace {

/// More than any entry; a group listing more members than this is refused, not cut.
constexpr std::size_t kAnswerMax = 1 << 20;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string first_line(const std::string& out) { return out.substr(0, out.find('\n')); }

struct Answer {
  bool found = false;  ///< getent's exit 0; 2 is "no such key"
  std::string out;
};

const char* getent_path() {
  for (const char* p : {"/usr/bin/getent", "/bin/getent"})
    if (::access(p, X_OK) == 0) return p;
  return nullptr;
}

Result<Answer> getent(const char* database, std::string_view key) {
  const char* path = getent_path();
  if (!path) return make_error(Errc::failed, "getent(1) is not installed (Debian: libc-bin)");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return make_error(Errc::failed, std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  char* no_env[] = {nullptr};
  pid_t pid = -1;
  // "--": a key is never taken for an option.
  int rc = spawn_in_session(
      {path, {"getent", database, "--", std::string(key)}, no_env, {-1, write_end.get(), -1}}, pid);
  if (rc != 0) return make_error(Errc::failed, std::string("getent: ") + std::strerror(rc));
  write_end.reset();
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + kUserLookupLimit;
  bool timed_out = false, too_long = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    struct pollfd p = {read_end.get(), POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kAnswerMax) {
      too_long = true;
      break;
    }
  }
  if (timed_out || too_long) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return make_error(Errc::failed,
                      "getent did not answer within " + format_duration(kUserLookupLimit));
  if (too_long) return make_error(Errc::failed, "getent's answer is over 1 MiB");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) return Answer{false, ""};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(Errc::failed, "getent " + std::string(database) + " failed (wait status " +
                                        std::to_string(status) + ")");
  return Answer{true, std::move(out)};
}

}  // namespace

std::optional<PasswdEntry> parse_passwd_line(std::string_view line) {
  auto f = split(line, ':');  // name:password:uid:gid:gecos:home:shell
  if (f.size() != 7 || f[0].empty()) return std::nullopt;
  auto uid = number<uid_t>(f[2]);
  auto gid = number<gid_t>(f[3]);
  if (!uid || !gid) return std::nullopt;
  return PasswdEntry{std::string(f[0]), *uid, *gid, std::string(f[5])};
}

std::optional<GroupEntry> parse_group_line(std::string_view line) {
  auto f = split(line, ':');  // name:password:gid:members
  if (f.size() != 4 || f[0].empty()) return std::nullopt;
  auto gid = number<gid_t>(f[2]);
  if (!gid) return std::nullopt;
  return GroupEntry{std::string(f[0]), *gid};
}

std::optional<std::vector<gid_t>> parse_initgroups_line(std::string_view line) {
  // "NAME  GID GID ...": the name, padded, then the groups.
  auto words = split(line, ' ');
  if (words.empty() || words[0].empty()) return std::nullopt;
  std::vector<gid_t> out;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (words[i].empty()) continue;
    auto gid = number<gid_t>(words[i]);
    if (!gid) return std::nullopt;
    out.push_back(*gid);
  }
  return out;
}

Result<std::optional<PasswdEntry>> lookup_user(std::string_view key) {
  auto a = getent("passwd", key);
  if (!a) return a.error();
  if (!a->found) return std::optional<PasswdEntry>();
  auto e = parse_passwd_line(first_line(a->out));
  if (!e) return make_error(Errc::failed, "getent passwd gave no entry: " + first_line(a->out));
  return std::optional<PasswdEntry>(std::move(*e));
}

Result<std::optional<GroupEntry>> lookup_group(std::string_view key) {
  auto a = getent("group", key);
  if (!a) return a.error();
  if (!a->found) return std::optional<GroupEntry>();
  auto e = parse_group_line(first_line(a->out));
  if (!e) return make_error(Errc::failed, "getent group gave no entry: " + first_line(a->out));
  return std::optional<GroupEntry>(std::move(*e));
}

Result<std::vector<gid_t>> lookup_member_groups(std::string_view name) {
  auto a = getent("initgroups", name);
  if (!a) return a.error();
  if (!a->found) return std::vector<gid_t>();
  auto groups = parse_initgroups_line(first_line(a->out));
  if (!groups)
    return make_error(Errc::failed, "getent initgroups gave no list: " + first_line(a->out));
  return std::move(*groups);
}

}  // namespace sbx::daemon
