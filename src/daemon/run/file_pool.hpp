#pragma once
// Empty files made ahead in STATE/pool/, renamed into place where a start would create a
// file (a new record's logs, and the spares its record is written through). Where a create
// must look for a free inode (ext4 without a journal skips every inode freed in the last
// minute: after churn in the folder, 0.2-0.4 ms a create), a rename finds none: the start
// of a new id then creates no file on its way. The files are made by the spare waiters
// (shim/protocol.hpp: each makes waiter::kSpareFiles before it waits), off the loop and
// beside it, so that back-to-back starts do not pay for them either. A create holds its
// folder's lock, which a rename out of that folder must take too: the spares take turns
// between two folders, and the oldest files go first, so a start renames files of a spare
// that is done while the next spare makes its own in the other folder.

#include <sys/types.h>

#include <deque>
#include <string>

#include "shim/protocol.hpp"

namespace sbx::daemon {

/// Files the pool may hold before a spare makes more: two starts of new ids.
inline constexpr std::size_t kPoolEnough = 2 * waiter::kSpareFiles;

class FilePool {
 public:
  explicit FilePool(std::string dir);

  /// Where the next spare makes its files: the folder the last one did not use, or
  /// waiter::kNoPool while the pool holds enough (starts of ids whose files exist use none).
  std::string next_spare_dir();
  /// Makes `path` an empty file of the pool (mode 0600), unless something is there: true if
  /// it did. False, and nothing changed, if `path` exists or the pool has no file: the
  /// caller creates it as it would without a pool.
  bool place(const std::string& path);
  /// open(2) of `path` with `flags` (O_CREAT among them): the file there, else one of the
  /// pool's put there, else a new one. -1 with errno as open's.
  int open(const std::string& path, int flags, mode_t mode);
  /// The files the spare waiter `pid` made in `spare_dir` (or is making: a name whose file
  /// is not there when its turn comes is passed over; one made after that waits for the
  /// next daemon).
  void add_made_by(pid_t pid, const std::string& spare_dir);

 private:
  void load();
  std::string dir_;
  bool loaded_ = false;
  bool unusable_ = false;
  int turn_ = 0;
  std::deque<std::string> ready_;  ///< paths, the oldest first
};

}  // namespace sbx::daemon
