#pragma once
// Reading ID.index (common/log_index.hpp) while it grows and while a log cap cuts it.
//
// A cap cuts whole 4096-byte blocks from the front: a collapse moves every later entry
// down, a punched hole leaves zeros (version 0) in place. The cursor remembers the seq
// and the file position of the last entry it returned; when that position no longer holds
// that entry (nor a hole), the index was collapsed and it finds its place again by seq.
// Entries come out with strictly increasing seq; zeros, torn or unknown entries are
// skipped, and a partial entry at the end (being written) waits for its last bytes.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/log_index.hpp"

namespace sbx::log_index {

class Cursor {
 public:
  /// `fd` is not owned; it is read with pread only.
  explicit Cursor(int fd) : fd_(fd) {}
  /// The next entry after the last one returned; nullopt at the index's current end.
  std::optional<Entry> next();
  /// Checks that the index was not collapsed since the last call (call it before each
  /// pass of next()); when it was, finds the first entry after the last one returned.
  void sync();
  /// Goes on from the entry at file position `pos` (a multiple of kEntrySize).
  void seek(off_t pos);
  /// File position of the entry next() returned last; -1 before the first.
  off_t last_pos() const { return last_pos_; }
  std::uint64_t last_seq() const { return last_seq_; }

 private:
  bool fill();
  /// Puts pos_ at the first entry with seq > last_seq_.
  void resync();
  int fd_;
  off_t pos_ = 0;         ///< file position of buf_[0]
  std::size_t at_ = 0;    ///< entries of buf_ consumed
  std::size_t have_ = 0;  ///< complete entries in buf_
  std::vector<unsigned char> buf_;
  off_t last_pos_ = -1;
  std::uint64_t last_seq_ = 0;
};

/// Calls `fn(entry, pos)` for the valid entries from the end of the index towards its
/// front (seq decreasing), until fn returns false.
void walk_back(int fd, const std::function<bool(const Entry&, off_t pos)>& fn);

}  // namespace sbx::log_index
