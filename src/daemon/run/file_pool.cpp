#include "daemon/run/file_pool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace sbx::daemon {

FilePool::FilePool(std::string dir, Timers& timers) : dir_(std::move(dir)), timers_(timers) {}

/// What an earlier daemon left: empty files nobody else writes (a crash between a create
/// and its rename leaves one more, still empty).
void FilePool::load() {
  loaded_ = true;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    ready_.push_back(name);
    next_name_ = std::max<std::uint64_t>(next_name_, std::strtoull(name.c_str(), nullptr, 10) + 1);
  }
  ::closedir(d);
}

bool FilePool::place(const std::string& path) {
  if (unusable_) return false;
  if (!loaded_) load();
  bool placed = false;
  while (!ready_.empty() && !placed) {
    std::string from = dir_ + "/" + ready_.back();
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
      placed = true;
    } else if (errno == EEXIST) {
      return false;  // `path` is there: the pool file stays for the next
    } else if (errno != ENOENT) {
      unusable_ = true;  // another file system (EXDEV), no renameat2: files are created
      return false;
    }
    ready_.pop_back();  // used, or gone (ENOENT)
  }
  return placed;
}

void FilePool::refill() {
  if (!loaded_) load();
  full_disk_ = false;
  if (!unusable_ && ready_.size() < kPoolFiles && !refill_.pending())
    refill_ = timers_.start(Millis{0}, [this] { refill_one(); });
}

void FilePool::refill_one() {
  if (full_disk_ || ready_.size() >= kPoolFiles) return;
  std::string name = std::to_string(next_name_++);
  int fd = ::open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) full_disk_ = true;  // no room, or no folder: tried again after a take
  } else {
    ::close(fd);
    ready_.push_back(name);
  }
  if (ready_.size() < kPoolFiles && !full_disk_)
    refill_ = timers_.start(Millis{0}, [this] { refill_one(); });
}

}  // namespace sbx::daemon
