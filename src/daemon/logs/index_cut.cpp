#include "daemon/logs/index_cut.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.hpp"
#include "common/log_index.hpp"

namespace sbx::daemon {

namespace {
constexpr off_t kBlock = 4096;
}  // namespace

std::uint64_t first_kept_byte(const std::string& path, std::int64_t collapsed) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  off_t data = fd ? ::lseek(fd.get(), 0, SEEK_DATA) : -1;
  if (data < 0) {  // empty, or all of it a hole: everything it held is cut
    struct stat st {};
    data = fd && ::fstat(fd.get(), &st) == 0 ? st.st_size : 0;
  }
  return static_cast<std::uint64_t>(collapsed + data);
}

Result<Trimmed> cut_index_file(const std::string& path, std::uint64_t kept_stdout,
                               std::uint64_t kept_stderr) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return make_error(Errc::failed, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(Errc::failed, "cannot stat " + path);
  if (st.st_size < static_cast<off_t>(log_index::kEntrySize)) return Trimmed{};
  off_t last_block = (st.st_size - static_cast<off_t>(log_index::kEntrySize)) / kBlock * kBlock;
  off_t data = ::lseek(fd.get(), 0, SEEK_DATA);  // past the blocks punched out earlier
  if (data < 0) return Trimmed{};
  data = data / kBlock * kBlock;
  off_t cut_to = data;
  unsigned char block[kBlock];
  while (cut_to < last_block) {
    if (::pread(fd.get(), block, sizeof block, cut_to) != static_cast<ssize_t>(sizeof block)) break;
    bool all_cut = true;
    for (std::size_t at = 0; at < sizeof block && all_cut; at += log_index::kEntrySize) {
      auto e = log_index::decode(block + at);
      static const unsigned char kHole[log_index::kEntrySize] = {};
      if (std::memcmp(block + at, kHole, sizeof kHole) == 0) continue;  // punched: no entry
      std::uint64_t kept = e.stream == 1 ? kept_stdout : kept_stderr;
      all_cut = log_index::valid(e) && e.offset + e.length <= kept;  // else kept, to be safe
    }
    if (!all_cut) break;
    cut_to += kBlock;
  }
  if (cut_to <= data) return Trimmed{};
  if (data == 0 && ::fallocate(fd.get(), FALLOC_FL_COLLAPSE_RANGE, 0, cut_to) == 0)
    return Trimmed{cut_to, true, 0};
  if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, data, cut_to - data) == 0)
    return Trimmed{cut_to - data, false, cut_to};
  return make_error(Errc::failed, "cannot cut " + path + ": " + std::strerror(errno));
}

}  // namespace sbx::daemon
