#pragma once
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `kill`... into a signal number (1..31 or a
/// real-time signal given by number). Unknown names and numbers are usage errors.
Result<int> parse_signal(std::string_view text);

/// "SIGTERM" for 15; "SIG37" for signals without a name.
std::string signal_name(int sig);

}  // namespace sbx
