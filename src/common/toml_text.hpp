#pragma once
// TOML text made safe for toml++ 3.3 before it parses it, and its strings read back.
//
// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) when it asks whether a
// code point of U+00A1..U+0499, U+2C5E..U+3057 (but U+3000) or U+FB26..U+FEFE is white
// space, which it does outside strings, after a backslash in a multi-line string and while
// reading some values (upstream #190). The text it parses has each such code point moved up by
// kShift, into the private use plane 15, where the question has an answer; every string taken from
// the document (and every message) is moved back with toml_unshift.

#include <optional>
#include <string>
#include <string_view>

namespace sbx {

inline constexpr char32_t kShift = 0xF0000;

struct TextFault {
  int line = 0;
  std::string message;
};

/// The text to give toml++, or what makes it unusable: a control character (but tab, CR,
/// LF; TOML has none) or a code point of plane 15, as written or as a \U000Fxxxx escape
/// (the shift needs them unused). `text` must be UTF-8.
std::optional<TextFault> toml_text_fault(std::string_view text);
std::string toml_shifted(std::string_view text);
/// A string of the shifted document as it was written.
std::string toml_unshift(std::string_view s);

}  // namespace sbx
