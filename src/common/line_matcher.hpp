#pragma once
// Finds the first line of a byte stream that contains a pattern: a substring, or an
// ECMAScript regex whose capture groups are returned. Lines may arrive split across any
// number of writes; a last line without a newline is tested by finish().

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx {

struct LineMatch {
  std::string line;                 ///< without its newline
  std::vector<std::string> groups;  ///< [whole match, group 1, ...]
};

class LineMatcher {
 public:
  /// A usage error for a regex that does not compile.
  static Result<LineMatcher> make(const std::string& pattern, bool regex);
  LineMatcher(LineMatcher&&) noexcept;
  LineMatcher& operator=(LineMatcher&&) noexcept;
  ~LineMatcher();

  /// Scans the bytes; returns the first matching complete line.
  std::optional<LineMatch> feed(std::string_view bytes);
  /// Tests what is left after the last newline (the stream has ended).
  std::optional<LineMatch> finish();

  /// Lines longer than this are tested at this length, then skipped to their end.
  static constexpr std::size_t kMaxLine = 1 << 20;

 private:
  struct Impl;
  explicit LineMatcher(std::unique_ptr<Impl> impl);
  std::optional<LineMatch> test(std::string_view line);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx
