#include "common/byte_size.hpp"

#include <charconv>
#include <string>

namespace sbx {

Result<std::int64_t> parse_byte_size(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::usage, "bad size '" + std::string(text) +
                                       "': use bytes or a suffix, like 512K, 64M, 1G, or 0");
  };
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0 || end == text.data()) return bad();
  std::string unit;
  for (const char* p = end; p != text.data() + text.size(); ++p)
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  int shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "K" || unit == "KB" || unit == "KIB")
    shift = 10;
  else if (unit == "M" || unit == "MB" || unit == "MIB")
    shift = 20;
  else if (unit == "G" || unit == "GB" || unit == "GIB")
    shift = 30;
  else if (unit == "T" || unit == "TB" || unit == "TIB")
    shift = 40;
  else
    return bad();
  if (n > (INT64_MAX >> shift)) return bad();
  return n << shift;
}

}  // namespace sbx
