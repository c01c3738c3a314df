#pragma once
// Reads a process's output in the order it was written: through ID.index, chunk by chunk,
// each with the time the shim read it (common/log_index.hpp). Positions are logical
// offsets (bytes the stream ever held), so a log cap cutting the files or the index moves
// nothing; bytes it cut before they were read make the position jump (on_jump), bytes
// that no entry covers are never lost: before the next entry of their stream they go
// with its time, at the end (finish()) with the file's modification time.
// Paced like LogReader: by the client's queue, else by yielding every few MiB.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/fd.hpp"
#include "common/log_index_reader.hpp"
#include "daemon/connection.hpp"
#include "daemon/logs/reader.hpp"
#include "daemon/timers.hpp"
#include "proto/frame.hpp"

namespace sbx::daemon {

/// Which chunks a request wants, by write time (ns since the epoch, both ends included).
struct TimeFilter {
  std::optional<std::int64_t> since_ns;
  std::optional<std::int64_t> until_ns;
  bool pass(std::int64_t t) const {
    return (!since_ns || t >= *since_ns) && (!until_ns || t <= *until_ns);
  }
};

class IndexedReader : public std::enable_shared_from_this<IndexedReader> {
 public:
  /// Bytes of one stream, in runs that each carry their write time (at most
  /// kMaxDataPayload bytes and kMaxChunkRuns runs a call).
  using Sink = std::function<void(std::uint8_t stream, const std::vector<proto::ChunkRun>& runs,
                                  std::string_view bytes)>;
  /// The stream's next byte lies at logical offset `at`, not where the client counted:
  /// `filtered` of the bytes between were left out by the TimeFilter, the rest were cut.
  using JumpFn = std::function<void(std::uint8_t stream, std::int64_t at, std::int64_t filtered)>;
  /// Bytes cut from the front of the stream's file (ProcessRecord::collapsed_*).
  using CollapsedFn = std::function<std::int64_t(std::uint8_t stream)>;

  /// `sources`: the log files of the wanted streams (their offsets are ignored).
  IndexedReader(UniqueFd index, std::vector<LogSource> sources, TimeFilter filter,
                CollapsedFn collapsed, Sink sink, ConnPtr throttle, Timers& timers);

  /// Where to begin; call one before the first kick(). Streams without a `from` begin
  /// with their oldest byte kept.
  void start_from(const std::optional<std::int64_t> (&from)[2]);
  /// The last `lines` lines of the merged view of the wanted streams.
  void start_tail(std::int64_t lines);

  void set_at_end(std::function<void()> fn) { at_end_ = std::move(fn); }
  void on_jump(JumpFn fn) { on_jump_ = std::move(fn); }
  /// The writer is done: at the index's end, also send what no entry covers.
  void finish() { finishing_ = true; }
  void kick();
  void stop();
  /// Logical offset of the stream's next byte as the client counts it; -1 if not read.
  std::int64_t position(std::uint8_t stream) const;

 private:
  struct Range {
    int k = 0;  ///< 0 stdout, 1 stderr
    std::int64_t time_ns = 0;
    std::int64_t from = 0, to = 0;
    bool skip = false;  ///< left out by the filter
  };
  static constexpr std::size_t kYieldBytes = 8 << 20;
  void refresh_kept();
  /// Queues what `e` adds past the stream's position (and what lies before it unindexed).
  void take(const log_index::Entry& e);
  void queue(int k, std::int64_t time_ns, std::int64_t from, std::int64_t to);
  void flush_unindexed();
  /// Sends what the front ranges hold of one stream, contiguous: one payload at most.
  void send_front(std::size_t& budget);
  /// More entries are needed before the front can go as one full payload.
  bool wants_more() const;
  bool pause(std::size_t budget);
  int source_of(int k) const { return src_[k]; }

  UniqueFd index_fd_;
  log_index::Cursor cursor_;
  std::vector<LogSource> sources_;
  int src_[2] = {-1, -1};  ///< index into sources_ per stream; -1: not wanted
  TimeFilter filter_;
  CollapsedFn collapsed_;
  Sink sink_;
  ConnPtr throttle_;
  Timers& timers_;
  std::function<void()> at_end_;
  JumpFn on_jump_;
  std::int64_t next_[2] = {0, 0};      ///< logical end of what was queued or left out
  std::int64_t told_[2] = {0, 0};      ///< logical end of what the client was sent
  std::int64_t filtered_[2] = {0, 0};  ///< left out since told_ last moved by a jump
  std::int64_t kept_[2] = {0, 0};      ///< logical offset of the oldest byte still in the file
  std::vector<Range> pending_;         ///< front first
  std::size_t front_ = 0;
  bool finishing_ = false;
  bool busy_ = false;
  bool stopped_ = false;
  std::vector<char> buf_;
  std::vector<proto::ChunkRun> runs_;
};

}  // namespace sbx::daemon
