// The only code that runs between fork and exec in sbxd: glibc's posix_spawn, driven by
// the attributes and file actions below. We write no post-fork code of our own.
//
// Why not Boost.Process v2's default_launcher: in Boost 1.81 it fork()s (copying the
// daemon's page tables) and calls io_context::notify_fork in the child, which rebuilds
// the epoll reactor and re-registers every descriptor the daemon watches (one epoll_ctl
// per managed process and client) before each exec; on exec failure the child calls
// exit(), running the daemon's atexit handlers. glibc's posix_spawn uses
// clone(CLONE_VM|CLONE_VFORK), costs the same whatever the daemon's size, and reports a
// failed exec as its return value. Boost.Process still watches each child (pidfd) in
// supervisor.cpp.

#include "daemon/spawn.hpp"

#include <signal.h>
#include <spawn.h>

#include <cstring>

namespace sbx::daemon {
namespace {

struct SpawnAttr {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnAttr() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttr() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> spawn_process(const SpawnRequest& req) {
  SpawnAttr s;
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &empty);
  posix_spawnattr_setsigdefault(&s.attr, &all);  // the daemon ignores SIGPIPE: children must not
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  posix_spawn_file_actions_adddup2(&s.actions, req.stdin_fd, 0);
  posix_spawn_file_actions_adddup2(&s.actions, req.stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&s.actions, req.stderr_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  posix_spawn_file_actions_addchdir_np(&s.actions, req.cwd.c_str());

  auto argv = c_strings(req.argv);
  auto envp = c_strings(req.envp);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, req.program.c_str(), &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) return make_error(Errc::failed, std::strerror(rc));
  return pid;
}

}  // namespace sbx::daemon
