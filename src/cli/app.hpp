#pragma once
#include "cli/args.hpp"

namespace CLI {
class App;
}

namespace sbx::cli {

/// Defines every command, option and help text on `app` (no parsing): used to parse the
/// command line and to generate the shell completion scripts from the same tree.
void build_app(CLI::App& app, Args& args);

/// Parses argv into `args`. Returns -1 to go on and run args.command, or an exit code
/// (0 after --help/--version, 2 for a usage error, already reported).
int parse_command_line(int argc, char** argv, Args& args);

}  // namespace sbx::cli
