#include "shim/relay.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log_index.hpp"

namespace sbx::waiter {
namespace {

void back_off(int& ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  ms = ms * 2 > 1000 ? 1000 : ms * 2;
}

/// All of `p` appended to `fd`: a full disk is waited out, any other error drops the rest.
bool append_all(int fd, const char* p, size_t n) {
  int wait_ms = 10;
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      wait_ms = 10;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == ENOSPC || errno == EDQUOT)) {
      back_off(wait_ms);
      continue;
    }
    return false;
  }
  return true;
}

int64_t now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void close_input(RelayStream& s) {
  ::close(s.in);
  s.in = -1;
}

}  // namespace

bool open_relay_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ::fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(kChunkMax));  // a smaller pipe works too
  return true;
}

bool relay_once(Relay& r, RelayStream& s) {
  if (s.in < 0) return false;
  ssize_t n;
  do {
    n = ::read(s.in, r.buf, kChunkMax);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  if (n <= 0) {  // end of file; EIO: the terminal's other side closed
    close_input(s);
    return false;
  }
  int64_t at = now_ns();
  if (!append_all(s.log, r.buf, static_cast<size_t>(n))) return true;
  if (r.index >= 0) {
    log_index::Entry e{};
    e.seq = r.next_seq++;
    e.offset = s.end;
    e.time_ns = at;
    e.length = static_cast<uint32_t>(n);
    e.stream = s.stream;
    e.version = log_index::kVersion;
    // The entry follows its bytes: a reader that sees it can read them.
    if (!append_all(r.index, reinterpret_cast<const char*>(&e), sizeof e)) r.index = -1;
  }
  s.end += static_cast<uint64_t>(n);
  return true;
}

void relay_drain(Relay& r) {
  bool more = true;
  while (more) {
    more = false;
    for (RelayStream& s : r.streams) more = relay_once(r, s) || more;
  }
}

bool relay_until(Relay& r, int stop_fd) {
  while (!relay_done(r)) {
    struct pollfd pfd[3];
    int n = 0;
    for (RelayStream& s : r.streams) pfd[n++] = {s.in, POLLIN, 0};  // -1 is skipped by poll
    pfd[n++] = {stop_fd, POLLIN, 0};
    if (::poll(pfd, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (pfd[2].revents) return true;
    for (int i = 0; i < 2; ++i) {
      if (pfd[i].revents) relay_once(r, r.streams[i]);
    }
  }
  return false;
}

}  // namespace sbx::waiter
