#pragma once
// A one-line progress indicator on stderr for waits that take a while:
//   ⠋ waiting for web: port 8000 (GET /health) … 3.2s
// Drawn only when stderr is a terminal (and TERM is not dumb), from the first tick after
// one second, redrawn on every tick, erased ("\r\033[K") by clear() or the destructor, so
// the final output (or error line) starts on a clean line. Nothing at all otherwise.

#include <chrono>
#include <string>

#include "cli/client.hpp"

namespace sbx::cli {

class Progress {
 public:
  /// `what` follows "waiting for ", e.g. "web: port 8000 (GET /health)".
  explicit Progress(std::string what);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// The callback for Client::call/stream: empty (so the client blocks in read()) when
  /// the indicator is off.
  Client::TickFn ticker();
  /// Erases the line if it was drawn; later ticks draw it again.
  void clear();
  /// What the next ticks say they wait for.
  void set_what(std::string what) { what_ = std::move(what); }

 private:
  void draw();

  std::string what_;
  std::chrono::steady_clock::time_point start_;
  bool enabled_ = false;
  bool shown_ = false;
  unsigned frame_ = 0;
};

/// True when a progress indicator may be drawn on `fd`: a terminal, and TERM is not dumb.
bool progress_enabled(int fd);

}  // namespace sbx::cli
