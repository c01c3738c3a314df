#include "common/toml_text.hpp"

namespace sbx {

int non_ascii_outside_strings(std::string_view t) {
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
    switch (in) {
      case normal:
        if (static_cast<unsigned char>(c) >= 0x80) return line;
        if (c == '#') in = comment;
        if (c == '"') in = at(i, "\"\"\"") ? (i += 2, ml_basic) : basic;
        if (c == '\'') in = at(i, "'''") ? (i += 2, ml_literal) : literal;
        break;
      case comment: break;
      case basic:
      case ml_basic:
        if (c == '\\' && i + 1 < t.size() && t[i + 1] != '\n') ++i;
        else if (c == '"' && in == basic) in = normal;
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
  return 0;
}


}  // namespace sbx
