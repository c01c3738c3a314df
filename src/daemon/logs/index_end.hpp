#pragma once
// Where a record's next run goes on in its log (common/log_index.hpp): the seq of its first
// index entry and the logical end of each stream, which the waiter is told.

#include <cstddef>
#include <cstdint>

#include "common/record.hpp"

namespace sbx::daemon {

struct LogEnds {
  std::uint64_t next_seq = 1;
  std::uint64_t stdout_end = 0;  ///< bytes the stream ever held: collapsed + the file's size
  std::uint64_t stderr_end = 0;
};

/// The seq after the highest of the whole entries in `tail` (the end of an index, starting
/// on an entry boundary); 1 when none is valid.
std::uint64_t next_seq_after(const unsigned char* tail, std::size_t n);

/// The ends of `r`'s log from its open files. A torn last entry (a waiter killed while it
/// wrote one) is cut off the index, so that the next run's entries stay aligned. Caps never
/// cut the index's last block, so its last entry is there unless it is empty.
LogEnds read_log_ends(int index_fd, int stdout_fd, int stderr_fd, const ProcessRecord& r);

}  // namespace sbx::daemon
