#pragma once
// A command of sbx as data: its name and the function that defines it on the command line
// (its options, help, usage form and example) and says what runs once it is parsed. Each
// cmd_*.cpp defines its commands through CommandDef; commands.cpp lists them in one table.
// CLI11 itself stays in app.cpp (and completion.cpp): each file that includes it pays
// for its static set-up on every start of sbx.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace sbx::cli {

/// Runs the parsed command: its exit code, or the error that main reports once as
/// "sbx: ..." with the error's exit code.
using RunFn = std::function<Result<int>()>;

/// What parsing hands a command's definition.
struct Invocation {
  RunFn run;  ///< set by the command that was parsed
  /// The words after the first `--`, verbatim, for a command that takes a command line.
  std::optional<std::vector<std::string>> argv;
};

/// One option being defined; each call returns it for the next.
class OptionDef {
 public:
  explicit OptionDef(CLI::Option* o) : o_(o) {}
  OptionDef& required();
  OptionDef& type_name(const char* name);  ///< also what the value completes to (completion.cpp)
  OptionDef& one_value_each();             ///< a repeatable option takes one value each time
  OptionDef& split_on(char delimiter);     ///< "a,b" is two values
  OptionDef& hidden();

 private:
  CLI::Option* o_;
};

/// A command (or a group of commands) being defined.
class CommandDef {
 public:
  CommandDef(CLI::App& app, Invocation& inv) : app_(&app), inv_(&inv) {}

  /// Adds subcommand `name`: its help, its usage form ("sbx NAME ..."), its example.
  CommandDef add(const char* name, const char* help, const char* usage, const char* example);
  /// What runs when this command is the one parsed.
  void runs(RunFn run);
  /// A group (daemon): one of its commands must be given.
  void require_subcommand();
  /// It takes a command line after its options (start): the words left are remaining().
  void takes_command_line();

  OptionDef option(const char* names, std::string& into, const char* help);
  OptionDef option(const char* names, std::vector<std::string>& into, const char* help);
  OptionDef option(const char* names, int& into, const char* help);
  OptionDef option(const char* names, std::optional<int>& into, const char* help);
  OptionDef option(const char* names, std::optional<std::int64_t>& into, const char* help);
  OptionDef flag(const char* names, bool& into, const char* help);

  /// After parsing: the words CLI11 left (takes_command_line), and those after `--`.
  std::vector<std::string> remaining() const;
  const std::optional<std::vector<std::string>>& argv() const { return inv_->argv; }

 private:
  CLI::App* app_;
  Invocation* inv_;
};

struct CommandEntry {
  std::string_view name;
  void (*define)(CommandDef& parent);
  bool takes_argv = false;  ///< everything after its first `--` is a command line (start)
};

/// Every top-level command, in the order of `sbx --help`.
std::span<const CommandEntry> command_table();
const CommandEntry* find_command(std::string_view name);

}  // namespace sbx::cli
