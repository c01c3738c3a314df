#pragma once
// Checks of TOML text before toml++ parses it.

#include <optional>
#include <string>
#include <string_view>

namespace sbx {

struct TextFault {
  int line = 0;
  std::string message;
};
/// The first control character (but tab, CR, LF) anywhere, or non-ASCII byte outside a
/// string or a comment. Neither is ever valid TOML, and toml++ 3.3 reaches
/// __builtin_unreachable on some of them (upstream #190): they are refused before it
/// sees them.
std::optional<TextFault> toml_text_fault(std::string_view text);

}  // namespace sbx
