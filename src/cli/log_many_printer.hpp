#pragma once
// How sbx logs prints several processes at once: whole lines, each after "ID | " with the
// ids padded to the widest (as docker compose logs), the prefix in a colour of its own
// per process when asked (a terminal without NO_COLOR); with -t the write time after it;
// with --json one event per line, with an "id" key. Lines are put together per process and
// stream, so that one process's line is never cut by another's; a line longer than
// kMaxDataPayload is printed in pieces, each on a line of its own, and an unterminated last
// line when its process's output is over.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log_lines.hpp"
#include "common/utf8.hpp"

namespace sbx::cli {

struct ManyPrintOptions {
  bool json = false;
  bool timestamps = false;
  bool one_stream = false;  ///< --stdout or --stderr: on fd 1
  bool color = false;
};

class ManyPrinter {
 public:
  /// Where the printed bytes go (fd 1 or 2).
  using Out = std::function<void(int fd, std::string_view bytes)>;
  ManyPrinter(ManyPrintOptions opts, Out out) : opts_(opts), out_(std::move(out)) {}
  /// A process to print, known by its index from 0 in the order added.
  void add(std::string id);
  /// Pads the ids to at least `width`.
  void widen(std::size_t width) { width_ = std::max(width_, width); }
  void run(std::size_t source, std::uint8_t stream, std::int64_t time_ns, std::string_view bytes);
  /// The source's output is over: its unterminated lines are printed.
  void end(std::size_t source);
  /// "ID<padding> | ", coloured when asked.
  std::string prefix(std::size_t source) const;

 private:
  struct Source {
    std::string id;
    std::unique_ptr<LineAssembler> lines[2];
    Utf8Sanitizer clean[2];
  };
  void line(std::size_t source, int k, std::string_view line, std::int64_t time_ns, bool partial);
  ManyPrintOptions opts_;
  Out out_;
  std::vector<Source> sources_;
  std::size_t width_ = 0;
};

/// Colour the prefixes only on a terminal, and not when NO_COLOR is set (to anything but "").
bool many_color_for(int fd);

}  // namespace sbx::cli
