#include "shim/spare.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/protocol.hpp"

namespace sbx::waiter {
namespace {

constexpr int kSpecFdCount = sizeof kSpecFds / sizeof kSpecFds[0];
/// Where the received descriptors wait, above every number they are to take.
constexpr int kParkedFdMin = 16;

bool read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t got = ::read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

/// The header and the descriptors that come with it; false (and none kept) unless both are whole.
bool receive_header(SpecHeader& h, int (&fds)[kSpecFdCount]) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof fds)];
  struct iovec iov = {&h, sizeof h};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(kReportFd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  int got = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    const unsigned char* data = CMSG_DATA(c);
    for (int i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, data + i * sizeof(int), sizeof fd);
      if (got < kSpecFdCount)
        fds[got++] = fd;
      else
        ::close(fd);
    }
  }
  bool whole = n == static_cast<ssize_t>(sizeof h) && !(msg.msg_flags & MSG_CTRUNC) &&
               got == kSpecFdCount && h.magic == kSpecMagic && h.bytes <= kSpecMax;
  if (!whole)
    for (int i = 0; i < got; ++i) ::close(fds[i]);
  return whole;
}

/// Each of `fds` on its number in kSpecFds (not close-on-exec, as dup2 leaves them).
void place(const int (&fds)[kSpecFdCount]) {
  int parked[kSpecFdCount];
  for (int i = 0; i < kSpecFdCount; ++i) {  // first out of the way of every target number
    parked[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, kParkedFdMin);
    ::close(fds[i]);
  }
  for (int i = 0; i < kSpecFdCount; ++i) {
    ::dup2(parked[i], kSpecFds[i]);
    ::close(parked[i]);
  }
}

/// `n` pointers to the strings that start at `*p`, which may not run past `end`.
char** split(char*& p, const char* end, unsigned n) {
  char** out = static_cast<char**>(calloc(n + 1, sizeof(char*)));
  if (!out) return nullptr;
  for (unsigned i = 0; i < n; ++i) {
    char* nul = static_cast<char*>(memchr(p, '\0', static_cast<size_t>(end - p)));
    if (!nul) {
      free(out);
      return nullptr;
    }
    out[i] = p;
    p = nul + 1;
  }
  return out;
}

}  // namespace

void make_pool_files(const char* pool) {
  if (strcmp(pool, kNoPool) == 0) return;
  char path[4096];
  for (int k = 0; k < kSpareFiles; ++k) {
    struct pollfd run = {kReportFd, POLLIN, 0};
    if (::poll(&run, 1, 0) != 0) return;
    int n = snprintf(path, sizeof path, "%s/", pool);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof path) return;
    format_spare_file(path + n, sizeof path - static_cast<size_t>(n), static_cast<int>(::getpid()),
                      k);
    int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
}

bool receive_spec(Spec& out) {
  SpecHeader h{};
  int fds[kSpecFdCount];
  if (!receive_header(h, fds)) return false;
  char* text = static_cast<char*>(malloc(h.bytes + 1));
  bool ok = text && read_all(kReportFd, text, h.bytes);
  char* p = text;
  char* end = text + h.bytes;
  char** argv = ok && h.argc > kArgArgv0 ? split(p, end, h.argc) : nullptr;
  char** envp = argv ? split(p, end, h.envc) : nullptr;
  if (!envp || p != end) {
    free(argv);
    free(envp);
    free(text);
    for (int fd : fds) ::close(fd);
    return false;
  }
  place(fds);
  out.argc = static_cast<int>(h.argc);
  out.argv = argv;
  out.envp = envp;
  return true;
}

}  // namespace sbx::waiter
