#include "shim/hand_over.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/protocol.hpp"

namespace sbx::waiter {

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

namespace {

/// EXIT_FILE.tmp, fsync, rename, fsync the folder: the status is final, it must survive.
/// False with errno if it could not be written.
bool write_exit_file(const char* path, int status) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= static_cast<int>(sizeof tmp)) {
    errno = ENAMETOOLONG;
    return false;
  }
  int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d\n", status);
  bool ok = write_all(fd, buf, static_cast<size_t>(n)) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp, path) != 0) {
    if (ok) err = errno;
    ::unlink(tmp);
    errno = err;
    return false;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char* slash = strrchr(dir, '/');
  if (slash && slash != dir) *slash = '\0';
  int dfd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

void hand_over_status(const char* exit_file, int status) {
  char held = 0;
  ssize_t got;
  do {
    got = ::read(kReportFd, &held, 1);
  } while (got < 0 && errno == EINTR);
  if (got == 1 && held == kHeld) return;
  while (!write_exit_file(exit_file, status) && (errno == ENOSPC || errno == EDQUOT)) ::sleep(1);
}

}  // namespace sbx::waiter
