#pragma once
#include <sys/resource.h>
#include <sys/types.h>

#include "shim/protocol.hpp"

namespace sbx::waiter {

/// What a child that could not exec tells the waiter on its exec socket (closed by the exec).
struct ChildFailure {
  Stage stage;
  int error;  ///< errno
};

/// Who the program runs as (USER of protocol.hpp).
struct Credentials {
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  const gid_t* groups;
};

/// Runs in the child between fork and exec; never returns. `out_fd` and `errout_fd` become
/// the program's stdout and stderr; `out_is_tty`: `out_fd` is a terminal, made the
/// controlling one. `cgroup_procs_fd`, unless -1, is the cgroup.procs of the run's cgroup,
/// which the child enters first. `nofile`, unless null, becomes its RLIMIT_NOFILE; `as`,
/// unless null, its groups, gid and uid (before the chdir: the directory must be the user's
/// to enter).
[[noreturn]] void exec_child(int err_fd, int report_fd, int out_fd, bool out_is_tty, int errout_fd,
                             int cgroup_procs_fd, const char* cwd, const struct rlimit* nofile,
                             const Credentials* as, const char* program, char** argv, char** envp);

}  // namespace sbx::waiter
