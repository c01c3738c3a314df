#include "common/toml_text.hpp"

namespace sbx {
namespace {

/// The code points toml++ cannot classify (toml_text.hpp).
bool unclassifiable(char32_t c) { return (c >= 0xA1 && c <= 0x499) || (c >= 0xFBC6 && c <= 0xFEFE); }

/// Decodes the UTF-8 sequence at s[i] (valid UTF-8 assumed); sets its length.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b(0) < 0x80) return len = 1, b(0);
  if (b(0) < 0xE0) return len = 2, ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (b(0) < 0xF0) return len = 3, ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  len = 4;
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

void encode(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

template <class Map>
std::string remap(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (std::size_t i = 0, len = 1; i < s.size(); i += len) encode(map(decode(s, i, len)), out);
  return out;
}

}  // namespace

std::optional<TextFault> toml_text_fault(std::string_view t) {
  int line = 1;
  for (std::size_t i = 0, len = 1; i < t.size(); i += len) {
    char32_t c = decode(t, i, len);
    if (c == '\n') ++line;
    if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
      return TextFault{line, "a control character (byte " + std::to_string(c) +
                                 "): TOML text has none; write it as an escape in a string"};
    bool escaped = c == '\\' && (t.substr(i + 1, 5) == "U000F" || t.substr(i + 1, 5) == "U000f");
    if ((c >= kShift && c < kShift + 0x10000) || escaped)
      return TextFault{line, "a character of the private use plane 15 (U+F0000-U+FFFFF), which a "
                             "project file cannot hold: remove it"};
  }
  return std::nullopt;
}

std::string toml_shifted(std::string_view text) {
  return remap(text, [](char32_t c) { return unclassifiable(c) ? c + kShift : c; });
}

std::string toml_unshift(std::string_view s) {
  return remap(s, [](char32_t c) { return c > kShift && unclassifiable(c - kShift) ? c - kShift : c; });
}

}  // namespace sbx
