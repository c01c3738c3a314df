#pragma once
// Checks of TOML text before toml++ parses it.

#include <string_view>

namespace sbx {

/// The line of the first non-ASCII byte outside a string or a comment, 0 if none. Such a
/// byte is never valid TOML, and toml++ 3.3 reaches __builtin_unreachable on some of them
/// (upstream #190): they are refused before it sees them.
int non_ascii_outside_strings(std::string_view text);

}  // namespace sbx
