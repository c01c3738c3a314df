#pragma once
// STATE/logs/ID.index: the order and the write time of a process's output.
//
// sbx-shim relays the program's stdout and stderr (pipes; a pseudo-terminal for stdout with
// --tty) into ID.stdout and ID.stderr and, after each read that it appended there, appends
// one entry here. The entry is written after its bytes, so a reader that sees an entry can
// read them. Order is the order in which the shim read its inputs: bytes that arrived in
// the same poll round have no order between them (the shim reads stdout first).
//
// An entry is 32 bytes in host byte order (the file never leaves the machine); 4096 is a
// multiple of it, so a log cap can cut the index in whole blocks as it cuts the logs
// (FALLOC_FL_COLLAPSE_RANGE, else a punched hole, which reads as zeros: version 0).
//
// Offsets are logical: the bytes the stream held before this chunk, over every run of the
// record and counting what caps cut (ProcessRecord::collapsed_* maps them to the file).
// seq numbers the entries of a record from 1, over every run; a later run goes on from
// the last entry. libc-only types: the shim includes this header.

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace sbx::log_index {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kEntrySize = 32;

struct Entry {
  uint64_t seq;       ///< 1, 2, 3 ... in write order; 0 only in a punched hole
  uint64_t offset;    ///< logical offset of the chunk's first byte in its stream
  int64_t time_ns;    ///< CLOCK_REALTIME when the shim read the chunk, ns since the epoch
  uint32_t length;    ///< bytes in the chunk, at least 1
  uint8_t stream;     ///< proto::kStreamStdout (1) or proto::kStreamStderr (2)
  uint8_t version;    ///< kVersion
  uint16_t reserved;  ///< 0
};
static_assert(sizeof(Entry) == kEntrySize, "an index entry is 32 bytes");
static_assert(4096 % kEntrySize == 0, "a block holds whole entries");

/// An entry as a reader may trust it: a written entry of a known version.
inline bool valid(const Entry& e) {
  return e.version == kVersion && e.seq != 0 && e.length != 0 && (e.stream == 1 || e.stream == 2) &&
         e.reserved == 0;
}

inline Entry decode(const unsigned char* p) {
  Entry e;
  memcpy(&e, p, sizeof e);
  return e;
}

}  // namespace sbx::log_index
