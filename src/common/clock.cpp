#include "common/clock.hpp"

#include <chrono>
#include <cstdio>

#include "common/duration.hpp"

namespace sbx {

EpochMs now_epoch_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339(EpochMs t) {
  using namespace std::chrono;
  auto days_since = floor<days>(sys_time<milliseconds>(milliseconds(t)));
  year_month_day ymd{days_since};
  EpochMs in_day = t - duration_cast<milliseconds>(days_since.time_since_epoch()).count();
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // outside what 4 digits hold: printf's widths grow
    char buf[96];
    std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", year,
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<long long>(in_day / 3'600'000), static_cast<long long>(in_day / 60'000 % 60),
        static_cast<long long>(in_day / 1000 % 60), static_cast<long long>(in_day % 1000));
    return buf;
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" by hand: ps of thousands of records formats two per record.
  std::string s = "0000-00-00T00:00:00.000Z";
  auto put = [&s](std::size_t at, long long v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10)
      s[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(0, year, 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, in_day / 3'600'000, 2);
  put(14, in_day / 60'000 % 60, 2);
  put(17, in_day / 1000 % 60, 2);
  put(20, in_day % 1000, 3);
  return s;
}

std::optional<EpochMs> parse_rfc3339(std::string_view s) {
  auto ns = parse_rfc3339_ns(s);
  if (!ns) return std::nullopt;
  return *ns / 1'000'000 - (*ns % 1'000'000 < 0 ? 1 : 0);
}

EpochNs now_epoch_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339_us(EpochNs t) {
  EpochNs us = t / 1000 - (t % 1000 < 0 ? 1 : 0);
  EpochNs ms = us / 1000 - (us % 1000 < 0 ? 1 : 0);
  std::string s = format_rfc3339(ms);  // "....123Z"
  char sub[4];                         // the microseconds within the millisecond: 0-999
  std::snprintf(sub, sizeof sub, "%03u", static_cast<unsigned>(us - ms * 1000) % 1000u);
  s.insert(s.size() - 1, sub);
  return s;
}

Result<EpochNs> parse_time_spec(std::string_view text, std::string_view option, EpochNs now) {
  if (auto t = parse_rfc3339_ns(text)) return *t;
  if (auto d = parse_duration(text)) return now - static_cast<EpochNs>(d->count()) * 1'000'000;
  return make_error(Errc::usage,
                    "bad time '" + std::string(text) + "' for " + std::string(option) +
                        ": give an RFC 3339 time (2026-12-01T19:00:00Z) or how long ago "
                        "(90s, 10m, 2h)");
}

std::optional<EpochNs> parse_rfc3339_ns(std::string_view s) {
  using namespace std::chrono;
  if (s.size() < 20) return std::nullopt;
  std::string str(s);
  // Fixed layout "YYYY-MM-DDTHH:MM:SS": digits exactly where digits belong, no signs.
  static constexpr std::string_view kLayout = "dddd-dd-ddTdd:dd:dd";
  for (size_t k = 0; k < kLayout.size(); ++k) {
    char c = str[k];
    bool ok = kLayout[k] == 'd' ? (c >= '0' && c <= '9')
                                : (c == kLayout[k] || (k == 10 && (c == 't' || c == ' ')));
    if (!ok) return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t k = at; k < at + len; ++k) v = v * 10 + (str[k] - '0');
    return v;
  };
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
      sec = num(17, 2);
  size_t i = 19;
  EpochNs frac_ns = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && std::isdigit(static_cast<unsigned char>(str[i]))) {
      if (digits < 9) frac_ns = frac_ns * 10 + (str[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 9; ++k) frac_ns *= 10;
  }
  EpochMs offset_ms = 0;
  if (i < str.size() && (str[i] == 'Z' || str[i] == 'z')) {
    ++i;
  } else if (i + 6 == str.size() && (str[i] == '+' || str[i] == '-')) {
    const char* o = str.c_str() + i + 1;
    auto dig = [](char c) { return c >= '0' && c <= '9'; };
    if (!dig(o[0]) || !dig(o[1]) || o[2] != ':' || !dig(o[3]) || !dig(o[4])) return std::nullopt;
    int oh = (o[0] - '0') * 10 + (o[1] - '0'), om = (o[3] - '0') * 10 + (o[4] - '0');
    if (oh > 23 || om > 59) return std::nullopt;
    offset_ms = (oh * 60 + om) * 60'000LL * (str[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != str.size()) return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // Nanoseconds since the epoch fit in 64 bits from 1678 to 2261 (with any offset).
  if (y < 1678 || y > 2261) return std::nullopt;
  EpochNs base = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  return ((base + ((h * 60LL + mi) * 60 + sec) * 1000 - offset_ms) * 1'000'000) + frac_ns;
}

}  // namespace sbx
