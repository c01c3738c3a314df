#include "daemon/run/file_pool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>

#include <cerrno>

#include "shim/protocol.hpp"

namespace sbx::daemon {

FilePool::FilePool(std::string dir) : dir_(std::move(dir)) {}

namespace {
constexpr const char* kSpareDirs[] = {"a", "b"};
}

/// What an earlier daemon's spares left: empty files nobody else writes.
void FilePool::load() {
  loaded_ = true;
  for (const char* name : kSpareDirs) {
    std::string sub = dir_ + "/" + name;
    ::mkdir(sub.c_str(), 0700);
    DIR* d = ::opendir(sub.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
      if (e->d_name[0] != '.') ready_.push_back(sub + "/" + e->d_name);
    }
    ::closedir(d);
  }
}

std::string FilePool::next_spare_dir() {
  if (!loaded_) load();
  if (unusable_ || ready_.size() >= kPoolEnough) return waiter::kNoPool;
  turn_ = 1 - turn_;
  return dir_ + "/" + kSpareDirs[turn_];
}

int FilePool::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags & ~O_CREAT);
  if (fd >= 0 || errno != ENOENT) return fd;
  place(path);
  return ::open(path.c_str(), flags, mode);
}

void FilePool::add_made_by(pid_t pid, const std::string& spare_dir) {
  if (spare_dir == waiter::kNoPool) return;
  char name[64];
  for (int k = 0; k < waiter::kSpareFiles; ++k) {
    waiter::format_spare_file(name, sizeof name, static_cast<int>(pid), k);
    ready_.push_back(spare_dir + "/" + name);
  }
}

bool FilePool::place(const std::string& path) {
  if (unusable_) return false;
  if (!loaded_) load();
  while (!ready_.empty()) {
    const std::string& from = ready_.front();
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
      ready_.pop_front();
      return true;
    }
    if (errno == EEXIST) return false;  // `path` is there: the pool file stays for the next
    if (errno != ENOENT) {
      unusable_ = true;  // another file system (EXDEV), no renameat2: files are created
      return false;
    }
    ready_.pop_front();  // not made (yet)
  }
  return false;
}

}  // namespace sbx::daemon
