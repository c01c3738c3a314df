#include "shim/fork_program.hpp"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sbx::waiter {

pid_t fork_program(const CgroupFds& cgroup, bool* must_move) {
  *must_move = false;
  if (cgroup.dir < 0) return ::fork();
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<__u64>(cgroup.dir);
  // No CLONE_VM and no stack: the child runs on a copy of this one, as after fork(). It only
  // makes the async-signal-safe calls of child.cpp, so glibc's fork bookkeeping is not missed.
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  // A kernel without clone3 (ENOSYS) or without CLONE_INTO_CGROUP (EINVAL, before 5.7).
  if (pid >= 0 || (errno != ENOSYS && errno != EINVAL && errno != E2BIG)) return pid;
  *must_move = true;
  return ::fork();
}

}  // namespace sbx::waiter
