#pragma once
#include "cli/args.hpp"

namespace sbx::cli {

/// Parses argv into `args`. Returns -1 to go on and run args.command, or an exit code
/// (0 after --help/--version, 2 for a usage error, already reported).
int parse_command_line(int argc, char** argv, Args& args);

}  // namespace sbx::cli
