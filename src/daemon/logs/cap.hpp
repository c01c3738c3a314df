#pragma once
// Keeps a live process's log files within its cap (--log-max), keeping the newest output.
// Waiters append to these files, not the daemon, so it learns of growth from inotify:
// it watches a file until it changes, checks its size, and listens again only after a
// short interval. A quiet file costs nothing; a flood, at most a hundred checks a second.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

struct Trimmed {
  off_t removed = 0;     ///< oldest bytes dropped
  bool shifted = false;  ///< true: the file was collapsed, offsets after the cut moved down
                         ///< by `removed`; false: a hole was punched, offsets stand
  off_t kept_from = 0;   ///< where the kept bytes begin now: 0 after a collapse, the end of
                         ///< the hole after a punch (the hole reads as zeros nobody wrote)
};

/// Drops the oldest bytes of `path` once it holds more than `cap` bytes of data, keeping
/// the newest half of the cap (block-aligned). Concurrent O_APPEND writers lose nothing:
/// FALLOC_FL_COLLAPSE_RANGE where the filesystem has it (ext4, xfs), else
/// FALLOC_FL_PUNCH_HOLE (tmpfs, btrfs), whose readers skip the hole.
Result<Trimmed> trim_log_file(const std::string& path, std::int64_t cap);

class LogCap {
 public:
  using Id = std::uint64_t;
  using TrimFn = std::function<void(const Trimmed&)>;
  LogCap(LogWatch& watch, Timers& timers);
  ~LogCap();
  Id add(const std::string& path, std::int64_t cap, TrimFn on_trim);
  /// The process ended, its last output is in: trims it once more, then forgets the file.
  void finish(Id id);
  void remove(Id id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
