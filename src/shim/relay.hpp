#pragma once
// The waiter's relay: the program's stdout and stderr come in on pipes and go out to
// ID.stdout and ID.stderr, each chunk followed by its entry in ID.index
// (common/log_index.hpp). libc only.
//
// A round polls both inputs and reads stdout before stderr: bytes that arrived within one
// round have no order between them, and the index says stdout first. Each read takes all
// that is there (up to kChunkMax), so a flood makes few, large entries.
//
// A write that fails for want of space (ENOSPC, EDQUOT) is retried, after 10 ms doubling to
// 1 s, until it succeeds: nothing read is dropped, and the program blocks on its full pipe
// meanwhile. Any other write error drops that chunk (the file is gone or unusable).

#include <stddef.h>
#include <stdint.h>

namespace sbx::waiter {

inline constexpr size_t kChunkMax = 1 << 20;  ///< one read; also the pipe size asked for

struct RelayStream {
  int in = -1;       ///< our end of the pipe (non-blocking), -1 once at end of file
  int log = -1;      ///< its log file, O_APPEND
  uint64_t end = 0;  ///< logical offset of the next byte
  uint8_t stream = 0;
};

struct Relay {
  RelayStream streams[2];  ///< stdout, then stderr: the order of a round
  int index = -1;          ///< ID.index, O_APPEND; -1: no index
  uint64_t next_seq = 1;
  char* buf = nullptr;  ///< kChunkMax bytes
};

/// A pipe for the program's output (its read end non-blocking, both close-on-exec, sized to
/// kChunkMax when the system allows). False with errno.
bool open_relay_pipe(int fds[2]);

/// One read of `s` appended and indexed. False when nothing was there (EAGAIN) or at its
/// end (EOF, EIO: a terminal's other side closed), which closes it.
bool relay_once(Relay& r, RelayStream& s);

/// Reads both inputs in rounds until neither has anything (EAGAIN) or is at its end.
void relay_drain(Relay& r);

/// Relays until `stop_fd` (a signalfd, or -1) is readable: true; or until both inputs
/// ended: false. A round that finds `stop_fd` readable reads nothing more.
bool relay_until(Relay& r, int stop_fd);

/// Both inputs are at their end.
inline bool relay_done(const Relay& r) { return r.streams[0].in < 0 && r.streams[1].in < 0; }

}  // namespace sbx::waiter
