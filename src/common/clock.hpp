#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sbx {

/// Wall-clock time in milliseconds since the Unix epoch (UTC).
using EpochMs = std::int64_t;

EpochMs now_epoch_ms();

/// RFC 3339, UTC, millisecond precision: "2026-11-26T10:31:02.123Z".
std::string format_rfc3339(EpochMs t);

/// Inverse of format_rfc3339; accepts any offset and 0-9 fraction digits.
std::optional<EpochMs> parse_rfc3339(std::string_view text);

}  // namespace sbx
