// Runs in the child between fork and exec: async-signal-safe calls only; never return,
// _exit(127). This is the only post-fork code of sbx.

#include "shim/child.hpp"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace sbx::waiter {

void exec_child(int err_fd, int report_fd, int out_fd, bool out_is_tty, int errout_fd,
                int cgroup_procs_fd, const char* cwd, const struct rlimit* nofile,
                const Credentials* as, const char* program, char** argv, char** envp) {
  // "0" moves the writer: from here on all it starts is born in the run's cgroup.
  if (cgroup_procs_fd >= 0 && ::write(cgroup_procs_fd, "0", 1) != 1) {
    ChildFailure f{Stage::cgroup, errno};
    ssize_t ignored = ::write(err_fd, &f, sizeof f);
    (void)ignored;
    ::_exit(127);
  }
  ::close(report_fd);  // the program's only descriptors are 0, 1 and 2 (the rest close on exec)
  if (nofile)
    ::setrlimit(RLIMIT_NOFILE, nofile);  // the limit sbxd was started with, not its raised one
  // The waiter ignores signals; the program starts with the defaults and an empty mask.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();  // its own session and process group: kill reaches the whole tree
  ChildFailure f{Stage::chdir, 0};
  // A terminal for stdout becomes the session's controlling terminal.
  if ((out_is_tty && ::ioctl(out_fd, TIOCSCTTY, 0) != 0) || ::dup2(out_fd, 1) < 0 ||
      ::dup2(errout_fd, 2) < 0) {
    f = ChildFailure{Stage::exec, errno};
  } else if (as && (::setgroups(as->ngroups, as->groups) != 0 || ::setgid(as->gid) != 0 ||
                    ::setuid(as->uid) != 0)) {  // groups and gid while it may still set them
    f = ChildFailure{Stage::user, errno};
  } else if (::chdir(cwd) != 0) {
    f.error = errno;
  } else {
    ::execve(program, argv, envp);
    f = ChildFailure{Stage::exec, errno};
  }
  ssize_t ignored = ::write(err_fd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

}  // namespace sbx::waiter
