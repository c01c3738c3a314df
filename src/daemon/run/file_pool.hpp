#pragma once
// Empty files made ahead in STATE/pool/, renamed into place where a start would create a
// file (a new record's logs, and the spare its record is written through). Where a create
// must look for a free inode (ext4 without a journal skips every inode freed in the last
// minute: after churn in the folder, 0.2-0.4 ms a create), a rename finds none: the start
// of a new id then creates no file on its way.

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/timers.hpp"

namespace sbx::daemon {

inline constexpr std::size_t kPoolFiles = 16;  ///< three starts of a new id, and some

class FilePool {
 public:
  FilePool(std::string dir, Timers& timers);

  /// Makes `path` an empty file of the pool (mode 0600), unless something is there: true if
  /// it did. False, and nothing changed, if `path` exists or the pool is empty: the caller
  /// creates it as it would without a pool.
  bool place(const std::string& path);
  /// Fills the pool up, one file per turn of the loop (after a start has its answer).
  void refill();

 private:
  void load();
  void refill_one();
  std::string dir_;
  Timers& timers_;
  bool loaded_ = false;
  bool unusable_ = false;
  bool full_disk_ = false;          ///< the last create failed: none until a file is used
  std::vector<std::string> ready_;  ///< names in dir_
  std::uint64_t next_name_ = 0;
  Timers::Timer refill_;
};

}  // namespace sbx::daemon
