#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

using Millis = std::chrono::milliseconds;

/// Parses `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds (`1.5`).
/// Negative, empty, non-finite or absurd (> 100 years) values are usage errors.
Result<Millis> parse_duration(std::string_view text);

/// "1.5s", "250ms", "2m", "1h3m": short and exact enough for messages.
std::string format_duration(Millis d);

}  // namespace sbx
