#pragma once
#include <sys/types.h>

#include <cstdint>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hpp"
#include "common/result.hpp"
#include "daemon/logs/index_end.hpp"
#include "shim/protocol.hpp"

namespace sbx::daemon {

struct SpawnRequest {
  std::string waiter;             ///< path of sbx-shim
  std::string exit_file;          ///< where the waiter writes the wait status
  std::string program;            ///< resolved path to exec
  std::vector<std::string> argv;  ///< argv[0] included
  std::vector<std::string> envp;  ///< "K=V", the waiter's and the program's
  std::string run_env;            ///< "K=V" for the program (and its tree) only, or ""
  std::string fd_limit = waiter::kKeepFdLimit;  ///< the program's soft RLIMIT_NOFILE
  std::string cwd;
  int stdin_fd = -1;   ///< the program's stdin
  int stdout_fd = -1;  ///< ID.stdout, ID.stderr, ID.index (O_APPEND): the waiter relays into them
  int stderr_fd = -1;
  int index_fd = -1;
  LogEnds log_ends;                      ///< where this run goes on in them
  std::string tty = waiter::kNoTty;      ///< "COLSxROWS": stdout is a pseudo-terminal
  std::string user = waiter::kSameUser;  ///< "UID:GID:GROUPS": who the program runs as
  /// The run's cgroup directory, which the program enters before its exec.
  std::string cgroup = waiter::kNoCgroup;
};

// What sbxd and the waiter say to each other: shim/protocol.hpp.

struct SpawnedWaiter {
  pid_t waiter = -1;  ///< sbx-shim, our child: it ends right after the program
  UniqueFd report;    ///< our end of the waiter's report socket (non-blocking)
  std::optional<std::uint64_t> start_ticks;  ///< the waiter's, if known already
};

class SpareWaiter;

/// Starts the waiter (hands the run to `spare` if it can) and returns at once. The waiter
/// starts the program only once release_waiter() told it to; its first line on `report`
/// then says whether the program was exec'd (see parse_launch_report).
Result<SpawnedWaiter> spawn_waiter(const SpawnRequest& req, SpareWaiter* spare = nullptr);

/// Tells a waiter that its run is recorded: it may start the program. False if it is gone.
bool release_waiter(const SpawnedWaiter& w);

/// The waiter's first report line, without its newline: the program's pid once it was
/// exec'd, else why it could not be. Anything else, or nothing at all, is an error too.
/// `too_large` gives the reason for an exec that failed with E2BIG (see exec_too_large).
Result<pid_t> parse_launch_report(std::string_view line,
                                  const std::function<std::string()>& too_large = {});

/// Why execve(2) refuses `argv` and `envp` with E2BIG: their size (strings, NULs and
/// pointers) against the kernel's limit (a quarter of the stack limit, at most 6 MiB), or
/// one string over the 128 KiB the kernel allows for a single one.
std::string exec_too_large(const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp);

/// The status in what the waiter wrote after its first line ("exit STATUS", "relay PID"),
/// as its ReportWatch read it (run/report_watch.hpp).
std::optional<int> reported_status(const std::string& rest);
/// The pid of the relay the waiter left for stragglers, in `rest`.
std::optional<pid_t> reported_relay(const std::string& rest);

/// The wait status the waiter wrote to its exit file, if it got to write one.
std::optional<int> read_exit_status(const std::string& path);

/// sbx-shim next to this sbxd, else on PATH; SBX_SHIM overrides.
std::string find_waiter();

}  // namespace sbx::daemon
