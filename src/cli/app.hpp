#pragma once
#include <string_view>

#include "cli/args.hpp"

namespace CLI {
class App;
}

namespace sbx::cli {

/// Defines every command, option and help text on `app` (no parsing): used to parse the
/// command line and to generate the shell completion scripts from the same tree.
/// `only`: define just that top-level command (the others are left out), or all if empty.
/// Returns false when `only` names no command (then no command is defined).
bool build_app(CLI::App& app, Args& args, std::string_view only = {});

/// Parses argv into `args`. Returns -1 to go on and run args.command, or an exit code
/// (0 after --help/--version, 2 for a usage error, already reported).
int parse_command_line(int argc, char** argv, Args& args);

}  // namespace sbx::cli
