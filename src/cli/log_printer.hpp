#pragma once
// How sbx logs prints what it receives: raw bytes (stdout chunks to fd 1, stderr chunks to
// fd 2, or one stream alone to fd 1), with -t each line after its write time, or with
// --json one event per line of output.

#include <cstdint>
#include <string_view>

#include "common/log_lines.hpp"
#include "common/utf8.hpp"
#include "proto/frame.hpp"

namespace sbx::cli {

struct LogPrintOptions {
  bool json = false;
  bool timestamps = false;
  bool one_stream = false;  ///< --stdout or --stderr: on fd 1
};

class LogPrinter {
 public:
  explicit LogPrinter(LogPrintOptions opts);
  /// Bytes of `stream` in runs, each with its write time (0: not known, a record from
  /// before the index).
  void chunk(std::uint8_t stream, const std::vector<proto::ChunkRun>& runs, std::string_view bytes);
  /// The output is over: what is held back (an unterminated --json line) is printed.
  void finish();

 private:
  void json_line(int k, std::string_view line, std::int64_t time_ns, bool partial);
  /// The -t prefix of a time: format_rfc3339_us and a space, its seconds formatted once.
  const std::string& prefix(std::int64_t time_ns);
  LogPrintOptions opts_;
  LineAssembler lines_[2];
  LinePrefixer starts_[2];
  Utf8Sanitizer clean_[2];
  std::int64_t prefix_second_ = -1;
  std::string prefix_;
};

}  // namespace sbx::cli
