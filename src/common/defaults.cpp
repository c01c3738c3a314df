#include "common/defaults.hpp"

#include <charconv>
#include <string>

namespace sbx {

Status check_restart_policy(std::string_view policy) {
  for (auto p : kRestartPolicies) {
    if (policy == p) return ok_status();
  }
  return make_error(Errc::usage,
                    "bad --restart '" + std::string(policy) + "': use no, on-failure or always");
}

Status check_log_max(std::int64_t bytes) {
  if (bytes == 0 || bytes >= kMinLogMax) return ok_status();
  return make_error(Errc::usage, "--log-max must be 0 (no cap) or at least 64K");
}

Result<TtySize> parse_tty_size(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::usage, "--tty-size takes COLSxROWS, each 1-65535 (say 120x40), not '" +
                                       std::string(text) + "'");
  };
  auto x = text.find('x');
  if (x == std::string_view::npos) return bad();
  auto number = [](std::string_view digits) -> int {
    if (digits.empty() || digits.size() > 5) return 0;
    int n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return 0;
      n = n * 10 + (c - '0');
    }
    return n <= 65535 ? n : 0;
  };
  TtySize size{number(text.substr(0, x)), number(text.substr(x + 1))};
  if (size.cols == 0 || size.rows == 0) return bad();
  return size;
}

Status check_max_restarts(std::int64_t n) {
  if (n >= 0 && n <= 1'000'000) return ok_status();
  return make_error(Errc::usage, "max_restarts must be 0 or more");
}

Status check_user(std::string_view spec) {
  auto colon = spec.find(':');
  bool ok = !spec.empty() && spec.size() <= 256 && colon != 0 && colon + 1 != spec.size() &&
            spec.find(':', colon == std::string_view::npos ? spec.size() : colon + 1) ==
                std::string_view::npos;
  for (unsigned char c : spec) ok = ok && c > ' ' && c != 0x7f;
  if (ok) return ok_status();
  return make_error(Errc::usage, "bad user '" + std::string(spec) +
                                     "': use USER or USER:GROUP (names or numbers)");
}

Status check_port(std::int64_t port) {
  if (port >= kMinPort && port <= kMaxPort) return ok_status();
  return make_error(Errc::usage, "the port must be 1-65535");
}

Status check_stream(std::string_view stream) {
  if (stream == "stdout" || stream == "stderr") return ok_status();
  return make_error(Errc::usage, "--stream takes stdout or stderr");
}

Result<std::pair<int, int>> parse_status_range(std::string_view s, std::string_view what) {
  auto bad = [&] {
    return make_error(Errc::usage, "bad " + std::string(what) + " '" + std::string(s) +
                                       "': use a code like 200 or a range like 200-299");
  };
  auto num = [](std::string_view t, int& out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && p == t.data() + t.size() && out >= 100 && out <= 999;
  };
  int lo = 0, hi = 0;
  auto dash = s.find('-');
  if (dash == std::string_view::npos) {
    if (!num(s, lo)) return bad();
    return std::pair{lo, lo};
  }
  if (!num(s.substr(0, dash), lo) || !num(s.substr(dash + 1), hi) || lo > hi) return bad();
  return std::pair{lo, hi};
}

}  // namespace sbx
