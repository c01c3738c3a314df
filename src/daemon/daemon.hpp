#pragma once
#include "common/defaults.hpp"
#include "common/paths.hpp"

namespace sbx::daemon {

struct DaemonOptions {
  Paths paths;
  int ready_fd = -1;  ///< written "\n" and closed once the socket listens
  bool foreground = false;
  int listen_fd = -1;  ///< a listening socket passed by systemd (LISTEN_FDS), or -1
  /// The preview proxy's port (0: a free port).
  int proxy_port = kDefaultProxyPort;
};

/// Runs the daemon's event loop until it is told to stop (daemon stop, SIGTERM, SIGINT).
/// The caller holds the pid-file lock. Returns the process exit code.
int run_daemon(const DaemonOptions& opts);

}  // namespace sbx::daemon
