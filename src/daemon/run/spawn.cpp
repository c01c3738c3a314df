// Starting a run: sbxd posix_spawn()s the waiter (sbx-shim), which forks and execs the
// program once told to and reports back on a socket (the protocol: shim/protocol.hpp).
// sbxd itself runs no code between fork and exec: glibc's posix_spawn
// (clone(CLONE_VM|CLONE_VFORK)) does (common/spawn_session.cpp); the program's own
// post-fork code is in shim/child.cpp.
//
// Why not Boost.Process v2's default_launcher: in Boost 1.81 it fork()s (copying the
// daemon's page tables) and calls io_context::notify_fork in the child, which rebuilds the
// epoll reactor and re-registers every descriptor the daemon watches before each exec;
// on exec failure the child calls exit(), running the daemon's atexit handlers.

#include "daemon/run/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/atomic_file.hpp"
#include "common/fd.hpp"
#include "common/spawn_session.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/run/spare_waiter.hpp"
#include "shim/protocol.hpp"

namespace sbx::daemon {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string find_waiter() { return sibling_program("sbx-shim", "SBX_SHIM"); }

Result<SpawnedWaiter> spawn_waiter(const SpawnRequest& req, SpareWaiter* spare) {
  std::vector<std::string> args(waiter::kArgArgv0);
  args[0] = req.waiter;
  args[waiter::kArgExitFile] = req.exit_file;
  args[waiter::kArgCwd] = req.cwd;
  args[waiter::kArgRunEnv] = req.run_env;
  args[waiter::kArgFdLimit] = req.fd_limit;
  args[waiter::kArgNextSeq] = std::to_string(req.log_ends.next_seq);
  args[waiter::kArgStdoutEnd] = std::to_string(req.log_ends.stdout_end);
  args[waiter::kArgStderrEnd] = std::to_string(req.log_ends.stderr_end);
  args[waiter::kArgTty] = req.tty;
  args[waiter::kArgCgroup] = req.cgroup;
  args[waiter::kArgUser] = req.user;
  args[waiter::kArgProgram] = req.program;
  args.insert(args.end(), req.argv.begin(), req.argv.end());
  std::vector<int> spec_fds = {req.stdin_fd, req.stdout_fd, req.stderr_fd, req.index_fd};
  if (spare && std::find(spec_fds.begin(), spec_fds.end(), -1) == spec_fds.end()) {
    if (auto taken = spare->take(args, req.envp, spec_fds)) return std::move(*taken);
  }

  int report[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, report) != 0) {
    if (out_of_fds(errno)) return make_error(Errc::failed, out_of_fds_message("start a process"));
    return make_error(Errc::failed,
                      "cannot exec " + req.program + ": socketpair: " + std::strerror(errno));
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  // Ours does not block (the event loop reads it); the waiter's does: it must not lose a line.
  ::fcntl(report_read.get(), F_SETFL, O_NONBLOCK);
  auto envp = c_strings(req.envp);
  // The waiter gets its own session too: nothing sbxd's session receives reaches it. The
  // daemon ignores SIGPIPE: children must not.
  std::vector<int> fds(waiter::kIndexFd + 1);
  fds[0] = req.stdin_fd;
  fds[waiter::kStdoutLogFd] = req.stdout_fd;
  fds[waiter::kStderrLogFd] = req.stderr_fd;
  fds[waiter::kReportFd] = report_write.get();
  fds[waiter::kIndexFd] = req.index_fd;
  pid_t waiter = -1;
  int rc = spawn_in_session({req.waiter, args, envp.data(), fds}, waiter);
  if (rc == E2BIG)
    return make_error(Errc::failed,
                      "cannot exec " + req.program + ": " + exec_too_large(args, req.envp));
  if (out_of_fds(rc)) return make_error(Errc::failed, out_of_fds_message("start a process"));
  if (rc != 0) {
    return make_error(Errc::failed, "cannot exec " + req.program + ": cannot start the waiter " +
                                        req.waiter + ": " + std::strerror(rc) +
                                        " (install sbx-shim next to sbxd)");
  }
  return SpawnedWaiter{waiter, std::move(report_read)};
}

bool release_waiter(const SpawnedWaiter& w) {
  ssize_t n;
  do {
    n = ::write(w.report.get(), &waiter::kGo, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

std::string exec_too_large(const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp) {
  constexpr std::size_t kMaxArgStrlen = 32 * 4096;  // MAX_ARG_STRLEN
  constexpr std::size_t kMaxArgs = 6 << 20;         // _STK_LIM / 4 * 3
  std::size_t bytes = 0, longest = 0;
  for (const auto* list : {&argv, &envp}) {
    for (const auto& s : *list) {
      bytes += s.size() + 1 + sizeof(char*);
      longest = std::max(longest, s.size() + 1);
    }
  }
  if (longest > kMaxArgStrlen) {
    return "an argument or environment string is too large (" + std::to_string(longest) +
           " bytes; the system allows " + std::to_string(kMaxArgStrlen) + " for one)";
  }
  rlimit stack{};
  ::getrlimit(RLIMIT_STACK, &stack);
  std::size_t limit = stack.rlim_cur == RLIM_INFINITY
                          ? kMaxArgs
                          : std::min<std::size_t>(kMaxArgs, stack.rlim_cur / 4);
  limit = std::max(limit, kMaxArgStrlen);
  return "argument list and environment too large (" + std::to_string(bytes) +
         " bytes; the system allows " + std::to_string(limit) + ")";
}

Result<pid_t> parse_launch_report(std::string_view line,
                                  const std::function<std::string()>& too_large) {
  std::string text(line);
  int pid = 0, err = 0;
  waiter::Stage stage{};
  if (waiter::parse_ok(text.c_str(), pid)) return static_cast<pid_t>(pid);
  if (waiter::parse_err(text.c_str(), stage, err)) {
    if (err == E2BIG && too_large && stage == waiter::Stage::exec)
      return make_error(Errc::failed, too_large());
    const char* what = stage == waiter::Stage::chdir    ? "cannot enter its working directory: "
                       : stage == waiter::Stage::user   ? "cannot take on its user and groups: "
                       : stage == waiter::Stage::cgroup ? "cannot enter its cgroup: "
                                                        : "";
    return make_error(Errc::failed, what + std::string(std::strerror(err)));
  }
  return make_error(Errc::failed, "the waiter sbx-shim ended without a report");
}

std::optional<int> read_exit_status(const std::string& path) {
  auto text = read_file(path);
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return static_cast<int>(v);
}

std::optional<int> reported_status(const std::string& rest) {
  int status = 0;
  if (waiter::parse_exit(rest.c_str(), status)) return status;
  return std::nullopt;
}

std::optional<pid_t> reported_relay(const std::string& rest) {
  int pid = 0;
  if (waiter::parse_relay(rest.c_str(), pid)) return static_cast<pid_t>(pid);
  return std::nullopt;
}

}  // namespace sbx::daemon
