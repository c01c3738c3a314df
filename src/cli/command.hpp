#pragma once
// A command of sbx as data: its name and the function that adds it to the command line
// (its options, help, usage form and example) and says what runs once it is parsed. Each
// cmd_*.cpp defines its commands; commands.cpp lists them in one table.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace CLI {
class App;
}

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

struct CommandEntry {
  std::string_view name;
  void (*define)(CLI::App& parent, Invocation& inv);
  bool takes_argv = false;  ///< everything after its first `--` is a command line (start)
};

/// Every top-level command, in the order of `sbx --help`.
std::span<const CommandEntry> command_table();
const CommandEntry* find_command(std::string_view name);

/// Adds subcommand `name` to `parent`: its help, its usage form ("sbx NAME ..."), its
/// example, and `run` to be called once it is parsed (the one whose callback runs).
CLI::App* add_command(CLI::App& parent, Invocation& inv, const char* name, const char* help, const char* usage,
                      const char* example, RunFn run);

}  // namespace sbx::cli
