// The index reader over arbitrary ID.index bytes, as it grows and as a cap cuts its front.
// Properties: no crash, UB or out-of-bounds read; the cursor returns only valid entries, at
// aligned positions inside the file, with strictly increasing seq, across growth and cuts;
// walk_back returns valid entries with strictly decreasing seq.
//
// Input: u8 how many 4 KiB blocks to cut | u8 cut by a hole (odd) or a collapse (even) |
// u16 where the first part ends (mod the size) | the index bytes.
#include <fcntl.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "common/log_index_reader.hpp"

using namespace sbx;

namespace {

void put(int fd, const std::string& s) {
  if (!s.empty()) CHECK(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
}

off_t size_of(int fd) { return ::lseek(fd, 0, SEEK_END); }

/// Reads what the cursor gives now; checks its properties.
void drain(log_index::Cursor& c, int fd, std::uint64_t& last_seq) {
  c.sync();
  off_t size = size_of(fd);
  for (off_t n = 0; n <= size / 32 + 1; ++n) {
    auto e = c.next();
    if (!e) return;
    CHECK(log_index::valid(*e));
    CHECK(e->seq > last_seq);
    last_seq = e->seq;
    CHECK(c.last_pos() >= 0 && c.last_pos() % 32 == 0 && c.last_pos() + 32 <= size);
  }
  CHECK(!"next() returned more entries than the file holds");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  int blocks = in.ConsumeIntegral<std::uint8_t>() % 8;
  bool hole = in.ConsumeBool();
  std::size_t split = in.ConsumeIntegral<std::uint16_t>();
  std::string bytes = in.ConsumeRemainingBytesAsString();
  split = bytes.empty() ? 0 : split % (bytes.size() + 1);

  int fd = ::memfd_create("index", MFD_CLOEXEC);
  CHECK(fd >= 0);
  put(fd, bytes.substr(0, split));
  log_index::Cursor c(fd);
  std::uint64_t last_seq = 0;
  drain(c, fd, last_seq);
  put(fd, bytes.substr(split));  // it grew
  drain(c, fd, last_seq);

  // A cap cut the front: a hole (memfd has no collapse: rewrite the file shorter instead).
  off_t cut = std::min<off_t>(static_cast<off_t>(blocks) * 4096, size_of(fd) / 4096 * 4096);
  if (cut > 0) {
    if (hole) {
      CHECK(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, cut) == 0);
    } else {
      std::string rest = bytes.substr(static_cast<std::size_t>(cut));
      CHECK(::ftruncate(fd, 0) == 0);
      CHECK(::lseek(fd, 0, SEEK_SET) == 0);
      put(fd, rest);
    }
  }
  put(fd, bytes.substr(0, std::min<std::size_t>(bytes.size(), 256)));  // and grew again
  drain(c, fd, last_seq);

  std::uint64_t below = UINT64_MAX;
  off_t fsize = size_of(fd);
  log_index::walk_back(fd, [&](const log_index::Entry& e, off_t pos) {
    CHECK(log_index::valid(e));
    CHECK(e.seq < below);
    below = e.seq;
    CHECK(pos >= 0 && pos % 32 == 0 && pos + 32 <= fsize);
    return true;
  });
  ::close(fd);
  return 0;
}
