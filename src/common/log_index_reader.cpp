#include "common/log_index_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sbx::log_index {

namespace {

constexpr std::size_t kBatch = 2048;  ///< entries per read: 64 KiB

ssize_t pread_full(int fd, unsigned char* buf, std::size_t len, off_t at) {
  ssize_t n;
  do n = ::pread(fd, buf, len, at);
  while (n < 0 && errno == EINTR);
  return n;
}

off_t align_down(off_t v) {
  return v / static_cast<off_t>(kEntrySize) * static_cast<off_t>(kEntrySize);
}

/// Where the index's data begins (past a hole punched at its front); the size when all of
/// it is hole, or on error.
off_t data_start(int fd, off_t size) {
  off_t d = ::lseek(fd, 0, SEEK_DATA);
  return d < 0 ? size : align_down(d);
}

off_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_size : 0;
}

bool all_zero(const unsigned char* p) {
  return std::all_of(p, p + kEntrySize, [](unsigned char c) { return c == 0; });
}

}  // namespace

bool Cursor::fill() {
  pos_ += static_cast<off_t>(at_ * kEntrySize);
  at_ = have_ = 0;
  if (buf_.empty()) buf_.resize(kBatch * kEntrySize);
  for (int tries = 0; tries < 2; ++tries) {
    ssize_t n = pread_full(fd_, buf_.data(), buf_.size(), pos_);
    if (n <= 0) return false;
    have_ = static_cast<std::size_t>(n) / kEntrySize;  // a partial entry waits for its end
    if (have_ == 0 || !all_zero(buf_.data())) return have_ > 0;
    // A punched hole: jump to the data after it (none yet: wait where we are).
    off_t data = ::lseek(fd_, pos_, SEEK_DATA);
    if (data < 0 || align_down(data) <= pos_) return true;
    pos_ = align_down(data);
    have_ = 0;
  }
  return false;
}

std::optional<Entry> Cursor::next() {
  for (;;) {
    if (at_ == have_ && !fill()) return std::nullopt;
    off_t pos = pos_ + static_cast<off_t>(at_ * kEntrySize);
    Entry e = decode(buf_.data() + at_ * kEntrySize);
    ++at_;
    if (!valid(e) || e.seq <= last_seq_) continue;
    last_seq_ = e.seq;
    last_pos_ = pos;
    return e;
  }
}

void Cursor::seek(off_t pos) {
  pos_ = align_down(std::max<off_t>(pos, 0));
  at_ = have_ = 0;
  last_pos_ = -1;
  unsigned char b[kEntrySize];
  Entry e{};
  if (pread_full(fd_, b, sizeof b, pos_) == static_cast<ssize_t>(sizeof b)) e = decode(b);
  last_seq_ = valid(e) && e.seq > 0 ? e.seq - 1 : 0;
}

void Cursor::sync() {
  unsigned char b[kEntrySize];
  if (last_pos_ < 0) {
    if (last_seq_ == 0) return seek(0);  // nothing read yet: from the front
    // Placed by seek(): the entry there must still be the one after last_seq_ (or not
    // written yet, where the index ends).
    ssize_t n = pread_full(fd_, b, sizeof b, pos_);
    if (n == static_cast<ssize_t>(sizeof b)) {
      Entry e = decode(b);
      if (valid(e) && e.seq == last_seq_ + 1) return;
    } else if (n >= 0 && file_size(fd_) >= pos_) {
      return;
    }
    return resync();
  }
  if (pread_full(fd_, b, sizeof b, last_pos_) == static_cast<ssize_t>(sizeof b)) {
    Entry e = decode(b);
    // Still there, or a hole punched over it: nothing moved.
    if ((valid(e) && e.seq == last_seq_) || all_zero(b)) return;
  }
  resync();
}

void Cursor::resync() {
  off_t size = file_size(fd_);
  off_t end = align_down(size);
  std::vector<unsigned char> buf(kBatch * kEntrySize);
  for (off_t at = data_start(fd_, size); at < end;) {
    ssize_t n = pread_full(
        fd_, buf.data(), std::min<std::size_t>(buf.size(), static_cast<std::size_t>(end - at)), at);
    if (n < static_cast<ssize_t>(kEntrySize)) break;
    std::size_t count = static_cast<std::size_t>(n) / kEntrySize;
    for (std::size_t i = 0; i < count; ++i) {
      Entry e = decode(buf.data() + i * kEntrySize);
      if (valid(e) && e.seq > last_seq_) {
        pos_ = at + static_cast<off_t>(i * kEntrySize);
        at_ = have_ = 0;
        last_pos_ = -1;  // seek()-like: pos_ holds the entry after last_seq_
        return;
      }
    }
    at += static_cast<off_t>(count * kEntrySize);
  }
  pos_ = end;
  at_ = have_ = 0;
  last_pos_ = -1;
}

void walk_back(int fd, const std::function<bool(const Entry&, off_t pos)>& fn) {
  off_t size = file_size(fd);
  off_t front = data_start(fd, size);
  std::vector<unsigned char> buf(kBatch * kEntrySize);
  std::uint64_t below = UINT64_MAX;  // seq decreases: anything else is torn or stale
  for (off_t end = align_down(size); end > front;) {
    off_t start = std::max<off_t>(front, end - static_cast<off_t>(buf.size()));
    ssize_t n = pread_full(fd, buf.data(), static_cast<std::size_t>(end - start), start);
    if (n < static_cast<ssize_t>(end - start)) return;
    for (std::size_t i = static_cast<std::size_t>(n) / kEntrySize; i-- > 0;) {
      Entry e = decode(buf.data() + i * kEntrySize);
      if (!valid(e) || e.seq >= below) continue;
      below = e.seq;
      if (!fn(e, start + static_cast<off_t>(i * kEntrySize))) return;
    }
    end = start;
  }
}

}  // namespace sbx::log_index
