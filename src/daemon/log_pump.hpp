#pragma once
// Streams a process's log files to a client as DATA frames, as fast as the client reads
// and never faster: it refills the connection's queue only below the low-water mark, so
// a slow reader lags on disk and costs the daemon no memory.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/fd.hpp"
#include "daemon/connection.hpp"

namespace sbx::daemon {

/// Where `tail` lines before the end of the file begin (a last line without a newline
/// counts); 0 when the file holds fewer lines.
off_t tail_offset(int fd, off_t size, std::int64_t lines);

struct LogSource {
  UniqueFd fd;
  std::uint8_t stream = 0;   ///< proto::kStreamStdout / kStreamStderr
  off_t offset = 0;
};

class LogPump : public std::enable_shared_from_this<LogPump> {
 public:
  LogPump(ConnPtr conn, std::vector<LogSource> sources);
  /// Sends everything from each source's offset to its current end, then calls `done`.
  /// Not called if the connection closes first.
  void run(std::function<void()> done);

 private:
  void pump();
  ConnPtr conn_;
  std::vector<LogSource> sources_;
  std::size_t current_ = 0;
  std::function<void()> done_;
};

}  // namespace sbx::daemon
