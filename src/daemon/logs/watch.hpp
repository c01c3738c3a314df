#pragma once
// Wakes readers of log files when a file grows (inotify IN_MODIFY). A file is watched only
// while someone listens, so a chatty child nobody follows costs the daemon nothing. Where
// inotify fails (the user's max_user_instances or max_user_watches used up), the file's
// size and mtime are checked every 20ms instead (a cgroup's file, which keeps both when it
// changes, is reported every 20ms), still only while someone listens; sbxd.log says so
// once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class LogWatch {
 public:
  using Id = std::uint64_t;
  explicit LogWatch(boost::asio::io_context& io);
  ~LogWatch();
  /// Calls `on_change` on the loop after `path` was written to (never 0).
  Id watch(const std::string& path, std::function<void()> on_change);
  /// Safe with 0 and with ids already removed.
  void unwatch(Id id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
