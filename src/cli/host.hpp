#pragma once
// Which daemon sbx talks to: this machine's, or another host's over OpenSSH
// (`sbx --host URL`, else SBX_HOST).

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx::cli {

/// `ssh://[USER@]HOST[:PORT][/REMOTE_HOME]`; "" or `unix://SOCKET` is this machine.
struct HostUrl {
  bool remote = false;
  std::string user;    ///< empty: ssh's own choice (its config, the local user)
  std::string host;    ///< a name or an address; an IPv6 address without its brackets
  int port = 0;        ///< 0: ssh's own choice
  std::string home;    ///< the remote SBX_HOME; empty: the remote default
  std::string socket;  ///< unix://: the local daemon's socket that was named
  /// How messages name it: "HOST" (with "USER@" and ":PORT" when given).
  std::string name() const;
  /// The URL again, normalised: what `daemon status --json` says it talked to.
  std::string url() const;
};

/// The ssh command that brings the other host's 127.0.0.1:PORT (an exposed process, the
/// proxy) to this machine's 127.0.0.1:PORT, for a user to run: `ssh -N -L P:127.0.0.1:P ...`.
std::string tunnel_command(const HostUrl& host, int port);

/// Parses an SBX_HOST / --host value; a bad one is a usage error saying what to write.
Result<HostUrl> parse_host_url(std::string_view text);

/// `sbx --host URL`: wins over SBX_HOST. Called while the command line is parsed.
void set_host_option(std::string url);

/// The host of this invocation: --host, else SBX_HOST, else this machine (parsed once).
const Result<HostUrl>& target_host();

/// True when the commands go to another host: the caller's environment and folder then
/// describe another machine and are not sent.
bool talking_to_remote();

}  // namespace sbx::cli
