#pragma once
// The typed start request: what the CLI sends to start a process and the daemon checks.
// Arguments, paths and the environment are bytes (proto/bytes.hpp).

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/defaults.hpp"
#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

/// The most --cpu-max may ask: a thousand cores.
inline constexpr std::int64_t kMaxCpuPercent = 100'000;

/// The longest `definition` a start request may carry.
inline constexpr std::size_t kMaxDefinitionSize = 128;

struct StartRequest {
  static constexpr std::string_view kOp = op::start;
  std::string id;                          ///< empty: the daemon picks one
  std::vector<std::string> argv;           ///< the argv form, or
  std::string shell_line;                  ///< one shell line (argv empty)
  std::string cwd;                         ///< absolute (remote: or under the daemon's $HOME)
  std::vector<std::string> base_env;       ///< the caller's environment, "K=V"
  std::map<std::string, std::string> env;  ///< overrides (-e, --env-file)
  std::string session = "default";
  std::optional<std::int64_t> timeout_ms;  ///< stop it once it has run this long
  bool auto_cleanup = false;               ///< --rm
  std::string restart = "no";              ///< kRestartPolicies
  std::optional<int> max_restarts;         ///< absent: no limit
  std::int64_t log_max = kDefaultLogMax;   ///< per stream; 0: no cap
  bool tty = false;                        ///< stdout is a pseudo-terminal
  std::string tty_size{kDefaultTtySize};   ///< its window, "COLSxROWS" (parse_tty_size)
  std::string definition;                  ///< what `sbx up` started it from (a hash); empty: none
  std::string user;                        ///< run it as "USER[:GROUP]"; empty: as sbxd
  /// The caller is on another host (sbx --host): its environment and folder describe that
  /// machine, so base_env is the daemon's own environment (none is sent) and a relative or
  /// empty cwd is taken from the daemon's $HOME.
  bool remote = false;
  std::optional<std::int64_t> memory_max;  ///< bytes, for its cgroup (--memory-max)
  std::optional<std::int64_t> pids_max;    ///< --pids-max
  std::optional<std::int64_t> cpu_max;     ///< percent of one core (--cpu-max)

  boost::json::object to_json() const;
  static Result<StartRequest> from_json(const boost::json::object& o);
};

}  // namespace sbx::proto
