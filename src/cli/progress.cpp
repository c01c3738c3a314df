#include "cli/progress.hpp"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/output.hpp"

namespace sbx::cli {
namespace {

constexpr auto kDelay = std::chrono::seconds(1);
constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr const char kErase[] = "\r\033[K";

// While the line is on screen, Ctrl-C (or a TERM) erases it before sbx dies as before.
struct sigaction g_old_int, g_old_term;
bool g_handlers = false;

void erase_and_die(int sig) {
  (void)!::write(2, kErase, sizeof kErase - 1);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Only signals that would kill sbx anyway (default disposition) are caught: an ignored
// SIGINT (a background job of a script) stays ignored.
void install_handlers() {
  if (g_handlers) return;
  struct sigaction sa {};
  sa.sa_handler = erase_and_die;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, nullptr, &g_old_int);
  ::sigaction(SIGTERM, nullptr, &g_old_term);
  if (g_old_int.sa_handler == SIG_DFL) ::sigaction(SIGINT, &sa, nullptr);
  if (g_old_term.sa_handler == SIG_DFL) ::sigaction(SIGTERM, &sa, nullptr);
  g_handlers = true;
}

void restore_handlers() {
  if (!g_handlers) return;
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  g_handlers = false;
}

int terminal_columns() {
  winsize ws{};
  if (::ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/// Cuts UTF-8 text to at most `cols` code points (a fair guess at its width).
std::string fit(const std::string& s, std::size_t cols) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (points == cols) return s.substr(0, i);
    ++points;
  }
  return s;
}

}  // namespace

bool progress_enabled(int fd) {
  if (!::isatty(fd)) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

Progress::Progress(std::string what)
    : what_(std::move(what)),
      start_(std::chrono::steady_clock::now()),
      enabled_(progress_enabled(2)) {}

Progress::~Progress() { clear(); }

Client::TickFn Progress::ticker() {
  if (!enabled_) return {};
  return [this] { draw(); };
}

void Progress::draw() {
  auto elapsed = std::chrono::steady_clock::now() - start_;
  if (elapsed < kDelay) return;
  double secs = std::chrono::duration<double>(elapsed).count();
  char tail[32];
  std::snprintf(tail, sizeof tail, " … %.1fs", secs);
  std::string head = std::string(kFrames[frame_++ % std::size(kFrames)]) + " waiting for " + what_;
  // Stay on one line: the last column is left free so the terminal never wraps.
  std::size_t cols = static_cast<std::size_t>(terminal_columns());
  std::size_t tail_len = std::strlen(tail) - 2;  // "…" is 3 bytes, 1 column
  head = cols > tail_len + 1 ? fit(head, cols - tail_len - 1) : std::string();
  install_handlers();
  shown_ = true;
  write_out(2, "\r" + head + tail + "\033[K");
}

void Progress::clear() {
  if (!shown_) return;
  write_out(2, kErase);
  shown_ = false;
  restore_handlers();
}

}  // namespace sbx::cli
