#pragma once
#include <sys/types.h>

namespace sbx::waiter {

/// The run's cgroup as the waiter holds it: the directory (for clone3) and its cgroup.procs
/// (for a child that has to move itself), both -1 without a cgroup.
struct CgroupFds {
  int dir = -1;
  int procs = -1;
};

/// Forks the program's process, as fork(2). With a cgroup it is born in it
/// (clone3 CLONE_INTO_CGROUP, kernel >= 5.7): a write to cgroup.procs migrates a running
/// process, which waits for an RCU grace period (5-20 ms here on a loaded host), and a birth
/// in place costs nothing. Where the kernel cannot, it forks plainly and sets `*must_move`:
/// the child then writes itself to cgroup.procs (child.cpp). Returns the pid in the waiter, 0
/// in the child, -1 with errno (with a cgroup and `*must_move` false: the cgroup refused it,
/// e.g. its pids.max).
pid_t fork_program(const CgroupFds& cgroup, bool* must_move);

}  // namespace sbx::waiter
