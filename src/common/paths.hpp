#pragma once
#include <optional>
#include <string>

#include "common/result.hpp"

namespace sbx {

/// Where the daemon's socket and state live (README "Files", sbxd(8) FILES).
struct Paths {
  std::string runtime_dir;  ///< holds the socket, lock and pid file; mode 0700
  std::string socket;       ///< sbxd.sock
  std::string lock;         ///< sbxd.lock: taken by the client that starts a daemon
  std::string pid_file;     ///< sbxd.pid: held (flock) by the running daemon
  std::string state_dir;    ///< processes/, logs/, sbxd.log
  std::string processes_dir;
  std::string logs_dir;
  std::string pool_dir;  ///< empty files made ahead for new records (daemon/run/file_pool.hpp)
  std::string daemon_log;
  std::string state_pid_file;  ///< STATE/sbxd.pid: held too, so one state folder has one daemon

  std::string record_path(const std::string& id) const;
  std::string log_path(const std::string& id, bool stderr_stream) const;
  /// ID.index beside the logs: the order and write time of their chunks (common/log_index.hpp).
  std::string index_path(const std::string& id) const;
  /// Where the process's waiter (sbx-shim) writes its wait status when it ends.
  std::string exit_path(const std::string& id) const;
  /// A run with a restart policy: what a daemon after a crash restarts it with (its program
  /// and environment), which the record does not hold.
  std::string restart_env_path(const std::string& id) const;
};

/// `home` (sbxd --home) or $SBX_HOME puts everything under one folder; otherwise
/// $XDG_RUNTIME_DIR/sbx (else /tmp/sbx-UID) and $XDG_STATE_HOME/sbx (else ~/.local/state/sbx).
/// Fails when the socket path would not fit in sockaddr_un.
Result<Paths> resolve_paths(const std::optional<std::string>& home = std::nullopt);

/// mkdir -p with mode 0700 for the last component; refuses a folder that another user owns
/// or that group/others can enter (a socket there could be reached or replaced by them).
Status ensure_private_dir(const std::string& dir);
/// mkdir -p (0700 for new folders) without the ownership checks.
Status ensure_dir(const std::string& dir);

}  // namespace sbx
