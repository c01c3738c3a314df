#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"

namespace sbx::daemon {

struct SpawnRequest {
  std::string program;             ///< resolved path to exec
  std::vector<std::string> argv;   ///< argv[0] included
  std::vector<std::string> envp;   ///< "K=V"
  std::string cwd;
  int stdin_fd = -1;               ///< become 0, 1, 2 in the child; every other fd is closed
  int stdout_fd = -1;
  int stderr_fd = -1;
};

/// Starts a process in its own session and process group, with default signal
/// dispositions and an empty signal mask. Returns its pid once it has exec'd, or the
/// errno of the failed exec/chdir.
Result<pid_t> spawn_process(const SpawnRequest& req);

}  // namespace sbx::daemon
