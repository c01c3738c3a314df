#include "common/toml_text.hpp"

namespace sbx {

std::optional<TextFault> toml_text_fault(std::string_view t) {
  enum { normal, comment, basic, literal, ml_basic, ml_literal } in = normal;
  int line = 1;
  auto at = [&](std::size_t i, std::string_view s) { return t.substr(i, s.size()) == s; };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\n') {
      ++line;
      if (in == comment || in == basic || in == literal) in = normal;
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f)
      return TextFault{line, "a control character (byte " + std::to_string(u) +
                                 "): TOML text has none; write it as an escape in a string"};
    switch (in) {
      case normal:
        if (u >= 0x80) return TextFault{line, "a non-ASCII character outside a string: put it in quotes"};
        if (c == '#') in = comment;
        if (c == '"') in = at(i, "\"\"\"") ? (i += 2, ml_basic) : basic;
        if (c == '\'') in = at(i, "'''") ? (i += 2, ml_literal) : literal;
        break;
      case comment: break;
      case basic:
      case ml_basic:
        if (c == '\\') {
          // toml++ asks whether the byte after a backslash (in a multi-line string, the
          // first after a line-ending backslash and its whitespace) is whitespace, and
          // misjudges non-ASCII there as above.
          auto next = [&](std::size_t j) { return j < t.size() ? t[j] : '\0'; };
          if (static_cast<unsigned char>(next(i + 1)) >= 0x80)
            return TextFault{line, "a backslash before a non-ASCII character: not an escape"};
          if (in == ml_basic && std::string_view(" \t\r\n").find(next(i + 1)) != std::string_view::npos &&
              next(i + 1) != '\0') {
            std::size_t j = i + 1;
            for (; j < t.size() && std::string_view(" \t\r\n").find(t[j]) != std::string_view::npos; ++j)
              line += t[j] == '\n';
            if (static_cast<unsigned char>(next(j)) >= 0x80)
              return TextFault{line, "a non-ASCII character right after a line-ending backslash: "
                                     "begin the next line with an ASCII one"};
            i = j - 1;
          } else if (static_cast<unsigned char>(next(i + 1)) >= 0x20 && next(i + 1) != 0x7f) {
            ++i;
          }
        } else if (c == '"' && in == basic) in = normal;
        else if (c == '"' && at(i, "\"\"\"")) i += 2, in = normal;
        break;
      case literal:
        if (c == '\'') in = normal;
        break;
      case ml_literal:
        if (at(i, "'''")) i += 2, in = normal;
        break;
    }
  }
  return std::nullopt;
}


}  // namespace sbx
