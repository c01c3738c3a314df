#pragma once
// Reads a process's log files from given offsets and hands the bytes to a sink: a client
// (logs, logs -f) or a line matcher (wait-log). Kicked again whenever a file grows. With
// a client it refills the connection's queue only below the low-water mark, so a slow
// reader lags on disk and costs the daemon no memory; without one it yields to the event
// loop every few MiB, so scanning a huge log never stalls other clients.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "daemon/connection.hpp"
#include "daemon/logs/cap.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

/// Where `tail` lines before the end of the file begin (a last line without a newline
/// counts); 0 when the file holds fewer lines.
off_t tail_offset(int fd, off_t size, std::int64_t lines);

/// The file offset to resume a stream at from its logical offset (bytes the stream ever
/// held): `collapsed` bytes were cut from the front of the file (they are below it), and
/// a file of `size` bytes has nothing past its end.
off_t resume_offset(std::int64_t logical, std::int64_t collapsed, off_t size);

struct LogSource {
  UniqueFd fd;
  std::uint8_t stream = 0;  ///< proto::kStreamStdout / kStreamStderr
  off_t offset = 0;
};

class LogReader : public std::enable_shared_from_this<LogReader> {
 public:
  using Sink = std::function<void(std::uint8_t stream, std::string_view bytes)>;

  /// `throttle` (may be null) is the client whose queue paces the reading; `timers`
  /// lets an unthrottled reader yield.
  LogReader(std::vector<LogSource> sources, Sink sink, ConnPtr throttle, Timers& timers);

  /// Called each time every source has been read to its current end.
  void set_at_end(std::function<void()> fn) { at_end_ = std::move(fn); }
  /// Reads what the files hold now. A kick during a pending read is merged into it.
  void kick();
  /// No more reading or callbacks.
  void stop();
  /// The oldest bytes of `stream`'s file were dropped: what this reader had not read of
  /// them is gone. After a collapse the rest moved down; after a punched hole a reader
  /// inside the hole jumps past it, so it never passes on a byte the process did not write.
  /// True when bytes it had not read yet were dropped (its position jumped).
  bool trimmed(std::uint8_t stream, const Trimmed& cut);
  /// The file offset of `stream`'s next byte; -1 when it is not read.
  off_t offset(std::uint8_t stream) const;

 private:
  static constexpr std::size_t kYieldBytes = 8 << 20;
  std::vector<LogSource> sources_;
  Sink sink_;
  ConnPtr throttle_;
  Timers& timers_;
  std::function<void()> at_end_;
  bool busy_ = false;   ///< waiting for a drain or a yield
  bool again_ = false;  ///< kicked while busy
  bool stopped_ = false;
  std::vector<char> buf_;
};

}  // namespace sbx::daemon
