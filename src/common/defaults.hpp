#pragma once
// The defaults and limits that the CLI, the daemon and the record files share: each is
// stated here once.

#include <signal.h>

#include <cstdint>
#include <string_view>
#include <utility>

#include "common/duration.hpp"
#include "common/result.hpp"

namespace sbx {

/// Each log is capped at this many bytes, keeping the newest output (--log-max; 0: no cap).
inline constexpr std::int64_t kDefaultLogMax = std::int64_t{64} << 20;
/// A cap below this is refused: the cap trims in steps of about this size.
inline constexpr std::int64_t kMinLogMax = std::int64_t{64} << 10;
/// A stop sends this signal to the tree, then SIGKILL after the grace.
inline constexpr int kStopSignal = SIGTERM;
/// The grace of `sbx kill`, --timeout and `sbx daemon stop`.
inline constexpr Millis kStopGrace{10'000};
/// TCP ports a wait probes.
inline constexpr int kMinPort = 1;
inline constexpr int kMaxPort = 65535;
/// The port of the preview proxy of `sbx expose` (SBX_PROXY_PORT, sbxd --proxy-port;
/// 0: a free port).
inline constexpr int kDefaultProxyPort = 7780;
/// The ports an exposure may name start here: those below are reserved (with the proxy's own).
inline constexpr int kMinExposePort = 1024;

/// --tty-size COLSxROWS: the window of a --tty process's terminal.
inline constexpr std::string_view kDefaultTtySize = "80x24";
struct TtySize {
  int cols = 80;
  int rows = 24;
};
/// "COLSxROWS", each 1-65535 (a window size: struct winsize).
Result<TtySize> parse_tty_size(std::string_view text);

/// --restart: no | on-failure | always.
inline constexpr std::string_view kRestartPolicies[] = {"no", "on-failure", "always"};
Status check_restart_policy(std::string_view policy);
/// --log-max: 0 (no cap) or at least kMinLogMax.
Status check_log_max(std::int64_t bytes);
/// --max-restarts: 0 or more (at most a million).
Status check_max_restarts(std::int64_t n);
/// --user: "USER" or "USER:GROUP", each a name or a number (resolved by sbxd).
Status check_user(std::string_view spec);
/// --port of the waits: kMinPort..kMaxPort.
Status check_port(std::int64_t port);
/// The streams a log wait may name (--stream).
Status check_stream(std::string_view stream);
/// The good HTTP statuses of a port wait: "CODE" or "LO-HI", each 100-999 (LO <= HI).
/// `what` names the setting in the message ("--status").
Result<std::pair<int, int>> parse_status_range(std::string_view text, std::string_view what);

}  // namespace sbx
