#pragma once
// The client's way to another host: one `ssh -T HOST sbx dial-stdio` per connection, a
// socketpair as its stdin and stdout, so the protocol runs over it unchanged.

#include <sys/types.h>

#include <string>
#include <vector>

#include "cli/host.hpp"
#include "common/fd.hpp"
#include "common/result.hpp"

namespace sbx::cli {

/// How long a remote daemon has to say HELLO: the ssh handshake, then the remote sbx
/// starting its daemon (kDaemonPatienceMs), so that an unreachable host fails within 30 s.
inline constexpr int kRemotePatienceMs = 25'000;

/// What the ssh command line is made of (from the environment, so it can be tested).
struct SshSetup {
  std::string ssh_command = "ssh";  ///< SBX_SSH_COMMAND, split as GIT_SSH_COMMAND is
  std::string remote_sbx = "sbx";   ///< SBX_REMOTE_SBX: a word of the remote shell
  std::string control_dir;          ///< where ControlPath sockets go; empty: no mux options
  bool start_daemon = true;         ///< false: dial-stdio --no-start
};

/// The argv that runs ssh for `host` (unit-tested). ControlMaster/ControlPath/
/// ControlPersist are added unless `user_has_mux` (the user's command or ssh config sets
/// one); a command with shell syntax runs as `sh -c 'CMD "$@"'`, as git does.
std::vector<std::string> ssh_argv(const HostUrl& host, const SshSetup& setup, bool user_has_mux);

/// True when the ssh command line or an ssh config file it reads sets ControlMaster or
/// ControlPath (a config line, -S, -M or -o ...).
bool user_sets_mux(const std::string& ssh_command);

/// One running ssh: the socket the client speaks on, and ssh's stderr.
class SshLink {
 public:
  /// Starts ssh for `host`; `socket` is set to the client's end.
  static Result<SshLink> open(const HostUrl& host, bool start_daemon, UniqueFd& socket);

  /// ssh's stderr (non-blocking), to poll; -1 once it is closed.
  int stderr_fd() const { return err_.get(); }
  /// Reads what ssh wrote to stderr so far, keeping its last line.
  void drain();
  /// ssh goes on alone once the client closes its socket; it is reaped when it has ended
  /// by the next open() (sbx is short-lived: the rest by init).
  /// Why the link ended (or gave nothing within `timed_out_ms`, when not 0) before the
  /// remote daemon said HELLO: one line that names the step. Reaps ssh.
  Error failure(const HostUrl& host, int timed_out_ms);

 private:
  pid_t pid_ = -1;
  UniqueFd err_;
  std::string last_line_;  ///< the last non-empty line ssh wrote to stderr
  std::string partial_;    ///< a line still being written
  bool mentions_dial_stdio_ = false;
  bool host_key_failed_ = false;
  std::string remote_sbx_;
};

}  // namespace sbx::cli
