#pragma once
// A log cap cuts a record's index (common/log_index.hpp) with its logs: the oldest whole
// blocks of 128 entries, each of whose entries refers only to bytes already cut from its
// own stream. An entry whose bytes are still kept, in part, is never cut, and neither is
// the block holding the last entry (the next run goes on from its seq; a collapse may not
// reach the end of the file anyway).

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "daemon/logs/cap.hpp"

namespace sbx::daemon {

/// The logical offset of the first byte the log at `path` still holds: `collapsed` (the
/// bytes collapsed out of it) plus the hole punched at its start, if any.
std::uint64_t first_kept_byte(const std::string& path, std::int64_t collapsed);

/// Cuts the index at `path` as above, where `kept_stdout` and `kept_stderr` are each
/// stream's first kept byte: collapses the blocks where the file system can, else punches
/// them out (they read as zeros: not an entry). Trimmed{} when nothing could be cut.
Result<Trimmed> cut_index_file(const std::string& path, std::uint64_t kept_stdout,
                               std::uint64_t kept_stderr);

}  // namespace sbx::daemon
