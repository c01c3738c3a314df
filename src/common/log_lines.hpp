#pragma once
// Log bytes as lines, for readers that show one line at a time: a line takes the write
// time of its first byte, a line longer than a piece is cut into pieces (all but the last
// partial), and what is left unterminated at the end comes out whole at finish().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sbx {

class LineAssembler {
 public:
  /// line: the bytes with their '\n' (none on a partial piece or the unterminated end).
  using Emit = std::function<void(std::string_view line, std::int64_t time_ns, bool partial)>;
  explicit LineAssembler(std::size_t max_piece) : max_piece_(max_piece) {}
  /// Bytes written at `time_ns`, the stream's next after those fed before.
  void feed(std::int64_t time_ns, std::string_view bytes, const Emit& emit);
  /// The end of the stream: the unterminated last line, if any.
  void finish(const Emit& emit);

 private:
  std::size_t max_piece_;
  std::string pending_;
  std::int64_t pending_time_ = 0;
};

/// Puts `prefix(time)` before each line's first byte, streaming: a line split over
/// several feeds gets the time of the feed that held its first byte.
class LinePrefixer {
 public:
  /// Appends `bytes` to `out`, each line start preceded by `prefix`.
  void feed(std::string_view prefix, std::string_view bytes, std::string& out);
  /// The next byte starts a line.
  bool at_line_start() const { return at_start_; }

 private:
  bool at_start_ = true;
};

}  // namespace sbx
