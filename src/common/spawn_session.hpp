#pragma once
// Starting sbx's own programs: sbxd from sbx, the waiter sbx-shim from sbxd. Both are
// posix_spawn()ed (no code of ours runs between fork and exec) into a session of their own.

#include <sys/types.h>

#include <string>
#include <vector>

namespace sbx {

/// The program `name` in the folder of this executable if it is there and executable,
/// else `name` itself (found on PATH). The environment variable `override_var`, when set
/// and not empty, names it instead.
std::string sibling_program(const std::string& name, const char* override_var);

struct SessionSpawn {
  std::string program;            ///< looked up on PATH unless it has a '/'
  std::vector<std::string> argv;  ///< argv[0] included
  char* const* envp = nullptr;
  /// fds[i] becomes the child's descriptor i; -1: /dev/null (read-only for 0). Every other
  /// descriptor is closed.
  std::vector<int> fds;
  /// false: it stays in the caller's session and process group (ssh, which may prompt on
  /// the terminal).
  bool new_session = true;
};

/// Spawns it as the leader of a new session (unless !new_session), with every signal's
/// default action and an empty signal mask (sbx and sbxd ignore or block some). Returns 0
/// and sets `pid`, or the posix_spawn error.
int spawn_in_session(const SessionSpawn& spec, pid_t& pid);

}  // namespace sbx
