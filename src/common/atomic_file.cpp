#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.hpp"

namespace sbx {
namespace {

Error sys_error(const std::string& what, const std::string& path, int err) {
  return make_error(Errc::failed, what + " " + path + ": " + std::strerror(err));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view content, bool durable,
                         const MakeSpare& make_spare) {
  std::string tmp = atomic_spare_path(path);
  // Not O_TRUNC: ext4 (auto_da_alloc) starts writing back, on close, a file that was
  // truncated to nothing, an I/O on every record write. Overwritten, then cut to length.
  UniqueFd fd;
  if (make_spare) {  // only the first writes have no spare yet
    fd.reset(::open(tmp.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd && errno == ENOENT) make_spare(tmp);
  }
  if (!fd) fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error("cannot create", tmp, errno);
  struct stat before {};
  bool longer =
      ::fstat(fd.get(), &before) == 0 && before.st_size > static_cast<off_t>(content.size());
  if (!write_all(fd.get(), content) ||
      (longer && ::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0) ||
      (durable && ::fsync(fd.get()) != 0)) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("cannot write", tmp, err);
  }
  fd.reset();
  // The exchange keeps the previous version's inode as the next write's file: a file system
  // that must look for a free inode on each create (ext4 without a journal skips the ones
  // freed lately, a scan that grows with churn) has none to find. The first write renames.
  // Only with a file: an exchange with a folder would succeed, and swap the two.
  struct stat old {};
  bool exchange = ::lstat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode);
  if (!(exchange &&
        ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) &&
      ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("cannot rename over", path, err);
  }
  if (durable) sync_folder_of(path);
  return ok_status();
}

std::string atomic_spare_path(const std::string& path) { return path + ".tmp"; }

bool sync_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::fsync(fd.get()) == 0;
}

bool sync_folder_of(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return dfd && ::fsync(dfd.get()) == 0;
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return make_error(errno == ENOENT ? Errc::not_found : Errc::failed,
                      "cannot read " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("cannot read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace sbx
