#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "common/result.hpp"

namespace sbx::daemon {

struct SpawnRequest {
  std::string waiter;              ///< path of sbx-shim
  std::string exit_file;           ///< where the waiter writes the wait status
  std::string program;             ///< resolved path to exec
  std::vector<std::string> argv;   ///< argv[0] included
  std::vector<std::string> envp;   ///< "K=V", the waiter's and the program's
  std::string run_env;             ///< "K=V" for the program (and its tree) only, or ""
  std::string cwd;
  int stdin_fd = -1;               ///< become 0, 1, 2 of the program; nothing else is open there
  int stdout_fd = -1;
  int stderr_fd = -1;
};

struct Spawned {
  pid_t pid = -1;     ///< the program: leads its own session and process group
  pid_t waiter = -1;  ///< its sbx-shim, our child: it ends right after the program
  UniqueFd report;    ///< the waiter's report pipe: "exit STATUS" arrives here at the end
};

/// The status the waiter wrote on its report pipe ("exit STATUS"), read without blocking.
std::optional<int> read_reported_status(int report_fd);

/// Starts the program under its waiter and returns once it has exec'd, or the reason it
/// could not (chdir or exec failed, with errno's text).
Result<Spawned> spawn_process(const SpawnRequest& req);

/// sbx-shim next to this sbxd, else on PATH; SBX_SHIM overrides.
std::string find_waiter();

}  // namespace sbx::daemon
