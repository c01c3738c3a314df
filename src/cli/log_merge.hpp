#pragma once
// The output of several processes in one view, in the order it was written: each
// process's runs (bytes of one stream with their write time) queue up as its follower
// receives them, and the earliest head goes first. A process whose earlier output may
// still come (its replay is not over) holds the others back while its queue is empty;
// one that has caught up (following, all it had written was sent) or ended does not,
// so live output goes as it arrives. Equal times go in the order of the sources. Not
// thread-safe: the caller locks.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace sbx::cli {

struct MergedRun {
  std::size_t source = 0;
  bool end = false;  ///< the source's last item: its output is over
  std::uint8_t stream = 0;
  std::int64_t time_ns = 0;  ///< 0: not known (a record from before write times were kept)
  std::string bytes;
};

class LogMerge {
 public:
  /// A new source, held back on until it catches up or ends.
  std::size_t add_source();
  void push(std::size_t source, std::uint8_t stream, std::int64_t time_ns, std::string bytes);
  /// All the source had written so far was pushed; it holds the others back no more.
  void caught_up(std::size_t source);
  /// The source's output is over: an end item follows its runs.
  void done(std::size_t source);
  /// The next item to print, when one may go now.
  std::optional<MergedRun> pop();
  /// pop() would give one.
  bool ready() const { return next() != nullptr; }
  /// Every source ended and its items were popped.
  bool drained() const;
  /// Bytes queued for the source (a follower pauses while it has many).
  std::size_t queued_bytes(std::size_t source) const { return sources_[source].bytes; }
  std::size_t size() const { return sources_.size(); }

 private:
  struct Source {
    std::deque<MergedRun> items;
    std::size_t bytes = 0;
    bool caught_up = false;
    bool done = false;
    std::int64_t last_time = 0;
  };
  /// The source whose head goes next; null when none may go now.
  const Source* next() const;
  std::vector<Source> sources_;
};

}  // namespace sbx::cli
