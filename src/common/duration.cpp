#include "common/duration.hpp"

#include <charconv>
#include <cmath>

namespace sbx {

Result<Millis> parse_duration(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::usage, "bad duration '" + std::string(text) +
                                       "': use 250ms, 5s, 2m, 1h or seconds like 1.5");
  };
  if (text.empty()) return bad();
  size_t unit_at = text.size();
  while (unit_at > 0 && std::isalpha(static_cast<unsigned char>(text[unit_at - 1]))) --unit_at;
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = text.substr(unit_at);
  if (number.empty()) return bad();
  for (char c : number) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) return bad();
  }
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) return bad();
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else
    return bad();
  double ms = value * scale;
  if (!std::isfinite(ms) || ms < 0 || ms > 100.0 * 365 * 24 * 3'600'000) return bad();
  return Millis(static_cast<long long>(std::llround(ms)));
}

std::string format_duration(Millis d) {
  long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  long long s = ms / 1000;
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" +
         (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

}  // namespace sbx
