#pragma once
// A project file (sbx.toml, or a Procfile) as plain data: the processes that `sbx up`
// starts together, what each waits for before it starts, and when it counts as ready.
// Parsing checks every value by the rules `sbx start` uses; an error names FILE:LINE.
// man/sbx.toml.5 is the contract of the format.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/result.hpp"

namespace sbx {

/// How long a `ready` condition may take when its table sets no timeout.
inline constexpr Millis kDefaultReadyTimeout{60'000};
/// How often a `ready = { exec = ... }` command runs when no interval is set.
inline constexpr Millis kDefaultReadyInterval{250};

struct ReadySpec {
  enum class Kind { none, log, port, exec };
  Kind kind = Kind::none;
  std::string log;  ///< kind log: a substring of a line, or with regex an ECMAScript regex
  bool regex = false;
  int port = 0;                     ///< kind port
  std::optional<std::string> http;  ///< with port: GET this path
  int status_lo = 200;              ///< with http: the good statuses
  int status_hi = 399;
  std::string exec;  ///< kind exec: a shell line that exits 0 once ready
  Millis interval = kDefaultReadyInterval;
  Millis timeout = kDefaultReadyTimeout;
};

/// What a dependency must have reached before its dependent starts.
enum class DependsOn { started, ready, completed };
const char* depends_on_name(DependsOn d);
struct Dependency {
  std::string name;
  DependsOn condition = DependsOn::started;
  int line = 0;  ///< where the file names it
};

struct ProcessDef {
  std::string name;               ///< also its process id
  int line = 0;                   ///< where its table starts in the file
  std::vector<std::string> argv;  ///< the argv form, or
  std::string shell_line;         ///< one shell line (argv empty)
  std::string cwd;                ///< absolute
  std::string cwd_given;          ///< as written (empty: none), for another host's $HOME
  std::map<std::string, std::string> env;
  std::string env_file;  ///< absolute; empty: none
  std::string restart = "no";
  std::optional<int> max_restarts;
  std::optional<std::int64_t> timeout_ms;
  std::int64_t log_max = kDefaultLogMax;
  bool tty = false;
  std::string user;  ///< USER[:GROUP] to run it as; empty: as sbxd
  ReadySpec ready;
  std::vector<Dependency> depends_on;
};

struct Project {
  std::string name;                   ///< the session of its processes
  std::string file;                   ///< as given (for messages)
  std::string dir;                    ///< absolute: the base of cwd and env_file
  std::vector<ProcessDef> processes;  ///< in file order

  const ProcessDef* find(std::string_view name) const;
};

/// Parses sbx.toml text. `file` names it in messages; `dir` (absolute) is its folder.
/// Every error is a usage error "FILE:LINE: what is wrong; what to do".
Result<Project> parse_project_toml(std::string_view text, const std::string& file,
                                   const std::string& dir);
/// Parses a Procfile: `name: command` lines, `#` comments, blank lines.
Result<Project> parse_procfile(std::string_view text, const std::string& file,
                               const std::string& dir);
/// The usage error "FILE:LINE: message" of a project file.
Error file_error(const std::string& file, int line, const std::string& message);
/// The project of a file that names none: the name of its folder.
std::string default_project_name(const std::string& dir);
/// True for a file read as a Procfile: its name starts with "Procfile".
bool is_procfile_name(std::string_view path);

/// The dependencies must name processes of the project and form no cycle: the error names
/// the cycle ("a -> b -> a") at the line of its first process.
Status check_dependencies(const Project& p);
/// The processes `names` (empty: every one) and all they depend on, in an order where each
/// comes after what it depends on (file order among equals). Unknown names: usage error.
Result<std::vector<const ProcessDef*>> start_order(const Project& p,
                                                   const std::vector<std::string>& names);

}  // namespace sbx
