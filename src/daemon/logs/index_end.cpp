#include "daemon/logs/index_end.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/log_index.hpp"

namespace sbx::daemon {

namespace {
constexpr std::size_t kTailEntries = 4096 / log_index::kEntrySize;  ///< one block
}

std::uint64_t next_seq_after(const unsigned char* tail, std::size_t n) {
  std::uint64_t last = 0;
  for (std::size_t at = 0; at + log_index::kEntrySize <= n; at += log_index::kEntrySize) {
    auto e = log_index::decode(tail + at);
    if (log_index::valid(e)) last = std::max(last, e.seq);
  }
  return last + 1;
}

LogEnds read_log_ends(int index_fd, int stdout_fd, int stderr_fd, const ProcessRecord& r) {
  LogEnds ends;
  struct stat st {};
  if (::fstat(stdout_fd, &st) == 0)
    ends.stdout_end = static_cast<std::uint64_t>(r.collapsed_stdout + st.st_size);
  if (::fstat(stderr_fd, &st) == 0)
    ends.stderr_end = static_cast<std::uint64_t>(r.collapsed_stderr + st.st_size);
  if (::fstat(index_fd, &st) != 0) return ends;
  off_t whole = st.st_size / static_cast<off_t>(log_index::kEntrySize) *
                static_cast<off_t>(log_index::kEntrySize);
  if (whole != st.st_size && ::ftruncate(index_fd, whole) != 0) return ends;
  unsigned char tail[kTailEntries * log_index::kEntrySize];
  off_t from = std::max<off_t>(0, whole - static_cast<off_t>(sizeof tail));
  ssize_t n = ::pread(index_fd, tail, static_cast<std::size_t>(whole - from), from);
  if (n > 0) ends.next_seq = next_seq_after(tail, static_cast<std::size_t>(n));
  return ends;
}

}  // namespace sbx::daemon
