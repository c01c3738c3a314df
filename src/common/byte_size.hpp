#pragma once
#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// Parses a byte count: `65536`, `512K`, `64M`, `1G` (powers of 1024; `KiB`, `MB`...
/// spellings accepted, case-insensitive). Usage error otherwise.
Result<std::int64_t> parse_byte_size(std::string_view text);

}  // namespace sbx
