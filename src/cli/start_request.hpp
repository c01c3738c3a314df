#pragma once
// What `start` and `run` share: the options that say how a process runs, its command line,
// and the start request built from them, checked by the daemon's own rules before
// anything is sent.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"
#include "common/result.hpp"

namespace sbx::cli {

struct ProcessArgs {
  std::string id;
  std::string cwd;
  std::vector<std::string> env;        ///< -e K=V
  std::vector<std::string> env_files;  ///< --env-file F
  std::string session;                 ///< empty: $SBX_SESSION, else "default"
  std::string timeout;                 ///< --timeout D: stop it once it has run D
  bool auto_cleanup = false;           ///< --rm
  std::string restart;                 ///< kRestartPolicies
  std::optional<int> max_restarts;
  std::string log_max;               ///< --log-max SIZE per stream; empty: kDefaultLogMax
  bool tty = false;                  ///< --tty: stdout is a pseudo-terminal
  std::string tty_size;              ///< --tty-size COLSxROWS; empty: kDefaultTtySize
  std::string user;                  ///< --user USER[:GROUP]; empty: as sbxd
  std::vector<std::string> command;  ///< positional words
  bool argv_form = false;            ///< the words came after `--`
  /// Limits for its cgroup: --memory-max SIZE, --pids-max N, --cpu-max PCT[%].
  std::string memory_max;
  std::optional<std::int64_t> pids_max;
  std::string cpu_max;
};

/// The folder sbx runs in ("/" when it cannot be named): the base of --cwd and of -f FILE.
std::string current_dir();

/// Declares the options of ProcessArgs on `cmd` (start, run); `rm_help` says what --rm does.
void define_process_options(CommandDef& cmd, ProcessArgs& a, const char* rm_help);

/// Takes the command line of `cmd` (named `name`): the words after `--` verbatim, else what
/// follows the options (one word: a shell line). A word before `--` that CLI11 left is an
/// option it does not know, or a stray word.
Status take_command_words(ProcessArgs& a, const CommandDef& cmd, std::string_view name);

/// The start request of `a` as sent to sbxd, checked; `name` is the command, for messages.
Result<boost::json::object> start_request(const ProcessArgs& a, std::string_view name);

}  // namespace sbx::cli
