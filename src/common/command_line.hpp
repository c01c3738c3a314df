#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx {

/// The words of a shell line that a shell would run as one plain command: only letters,
/// digits, spaces and `_./:@%+,-=` (no quotes, expansions, globs, redirections or
/// operators), and a first word without `=`. Anything else gives nullopt: run it with sh -c.
std::optional<std::vector<std::string>> split_plain_command(std::string_view line);

/// True for a word that a shell runs without a program: a builtin or a reserved word of
/// POSIX sh, dash or bash (`exit`, `cd`, `export`, `.`, `:`, `if`, ...). A plain shell line
/// whose first word is neither a program nor one of these cannot run.
bool is_shell_builtin(std::string_view word);

/// argv as one line a shell would split back into the same words ('it'"'"'s').
std::string shell_join(const std::vector<std::string>& argv);

/// Finds `program` as execvp would: a name with a '/' is taken as is (relative to
/// `cwd`); otherwise each folder of `path_var` is tried. Returns the path to exec, or
/// nullopt with `err` = the errno of the most telling failure (ENOENT, EACCES).
std::optional<std::string> find_program(const std::string& program, const std::string& path_var,
                                        const std::string& cwd, int& err);

/// Parses an env file: `K=V` lines, `#` comments, blank lines, an optional `export `
/// prefix, optional matching quotes around V. Returns the error line on failure.
struct EnvFileError {
  int line = 0;
  std::string message;
};
std::optional<EnvFileError> parse_env_file(std::string_view text,
                                           std::map<std::string, std::string>& out);

/// A variable name: `[A-Za-z_][A-Za-z0-9_]*`.
bool is_env_name(std::string_view name);

/// A `K=V` argument of -e; false when there is no '=' or K is empty or not a name.
bool parse_env_assignment(std::string_view kv, std::string& key, std::string& value);

}  // namespace sbx
