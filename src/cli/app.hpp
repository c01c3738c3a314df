#pragma once
// The command line: the root of sbx's CLI11 tree, parsing, and the one edge where an
// error becomes "sbx: ..." and an exit code.

#include <string_view>

#include "cli/command.hpp"

namespace CLI {
class App;
}

namespace sbx::cli {

/// Defines the root and every command of the table on `app` (no parsing): to parse the
/// command line, to print help and to generate the completion scripts from one tree.
/// `only`: define just that top-level command (CLI11 building the whole tree is most of a
/// short command's CPU time).
void build_app(CLI::App& app, Invocation& inv, std::string_view only = {});

/// Parses argv, runs the command and returns sbx's exit code; reports any error once.
int run_command_line(int argc, char** argv);

/// What `sbx [CMD [SUB]] --help` prints, for `sbx help [CMD [SUB]]`.
Result<std::string> help_text(const std::vector<std::string>& words);

/// `sbx --version`, `sbx version`: "sbx X.Y.Z".
int print_version();

/// "unknown command 'strat' (did you mean 'start'?)": `name` is no command of `parent`
/// ("sbx" or "sbx daemon"), one of `known`.
Error unknown_command(std::string_view parent, std::string_view name,
                      const std::vector<std::string>& known);

}  // namespace sbx::cli
