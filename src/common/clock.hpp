#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// Wall-clock time in milliseconds since the Unix epoch (UTC).
using EpochMs = std::int64_t;

EpochMs now_epoch_ms();

/// RFC 3339, UTC, millisecond precision: "2026-11-26T10:31:02.123Z".
std::string format_rfc3339(EpochMs t);

/// Inverse of format_rfc3339; accepts any offset and 0-9 fraction digits, years 1678-2261.
std::optional<EpochMs> parse_rfc3339(std::string_view text);

/// Wall-clock time in nanoseconds since the Unix epoch (UTC), as log chunks carry it.
using EpochNs = std::int64_t;

EpochNs now_epoch_ns();
/// RFC 3339, UTC, microsecond precision: "2026-12-01T19:00:00.123456Z".
std::string format_rfc3339_us(EpochNs t);
/// parse_rfc3339 to the nanosecond.
std::optional<EpochNs> parse_rfc3339_ns(std::string_view text);
/// A point in time as --since/--until take it: an RFC 3339 time, or a duration
/// (parse_duration) that long before `now`. A usage error naming `option` otherwise.
Result<EpochNs> parse_time_spec(std::string_view text, std::string_view option, EpochNs now);

}  // namespace sbx
