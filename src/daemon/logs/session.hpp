#pragma once
// Reading a process's logs for one request, live: opens its log files, reads them from the
// requested offsets, and, while the process runs, reads again whenever a file grows,
// until the process has ended and every byte it wrote has been read. Shared by
// logs/logs -f (bytes to the client) and wait-log (bytes to a matcher). With `indexed`
// and an ID.index beside the logs, it reads through the index (IndexedReader: write
// order and times, woken by the index growing); else the files stream by stream.

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "daemon/context.hpp"
#include "daemon/logs/indexed_reader.hpp"
#include "daemon/logs/reader.hpp"

namespace sbx::daemon {

struct LogSessionSpec {
  std::string id;
  bool want_stdout = true;
  bool want_stderr = true;
  std::optional<std::int64_t> tail;  ///< start N lines before the end
  bool follow = false;               ///< keep reading until the process ends
  /// Start at these logical offsets (stdout, stderr): bytes the stream ever held, which
  /// stay valid across trims of the file and daemon restarts. Before `tail`.
  std::optional<std::int64_t> from[2];
  bool indexed = false;  ///< read through ID.index when there is one
  TimeFilter filter;     ///< chunks by write time (through the index only)
};

class LogSession : public std::enable_shared_from_this<LogSession> {
 public:
  /// Called when there is nothing more to read: not following, or the process ended and
  /// its output was read to the end. The record is the process's, as it is then.
  using DoneFn = std::function<void(const ProcessRecord&)>;

  /// An error when the files cannot be opened.
  static Result<std::shared_ptr<LogSession>> open(Context& ctx, const LogSessionSpec& spec,
                                                  IndexedReader::Sink sink, ConnPtr throttle);
  /// The same without the write times.
  static Result<std::shared_ptr<LogSession>> open(Context& ctx, const LogSessionSpec& spec,
                                                  LogReader::Sink sink, ConnPtr throttle);
  /// Told the logical offset of each stream's next byte when reading starts (every stream
  /// read), and again whenever one jumps ahead (the cap dropped bytes before they were
  /// read: that stream only). Set it before start().
  struct Offsets {
    std::optional<std::int64_t> at[2];  ///< stdout, stderr
    std::int64_t filtered[2] = {0, 0};  ///< of the jump, bytes the TimeFilter left out
  };
  using OffsetFn = std::function<void(const Offsets&)>;
  void on_offset(OffsetFn fn) { on_offset_ = std::move(fn); }
  /// Following: told once, the first time all the process had written was read.
  void on_caught_up(std::function<void()> fn) { on_caught_up_ = std::move(fn); }
  void start(DoneFn done);
  /// Stops reading and watching; no more callbacks. Idempotent.
  void stop();
  ~LogSession();

 private:
  LogSession(Context& ctx, std::string id) : ctx_(ctx), id_(std::move(id)) {}
  void at_end();
  void tell_offsets(std::initializer_list<std::uint8_t> streams);
  void kick();
  Context& ctx_;
  std::string id_;
  std::shared_ptr<LogReader> reader_;       ///< without an index
  std::shared_ptr<IndexedReader> indexed_;  ///< through the index
  std::vector<std::string> paths_;
  std::vector<LogWatch::Id> watches_;
  Supervisor::WatchId end_watch_ = 0;
  Supervisor::WatchId trim_watch_ = 0;
  bool follow_ = false;
  bool ended_ = false;
  bool stopped_ = false;
  std::shared_ptr<void> hold_;  ///< keeps an --rm process until we are done
  DoneFn done_;
  OffsetFn on_offset_;
  std::function<void()> on_caught_up_;
};

}  // namespace sbx::daemon
