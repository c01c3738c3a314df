#include "cli/waiting.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>

#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/duration.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kFirstRetryMs = 100;
constexpr int kMaxRetryMs = 1000;
/// A daemon that loses the request sooner than this after its HELLO (one that crashes on
/// it, say) does not count as answering: the patience is not renewed for it.
constexpr auto kAliveAtLeast = std::chrono::seconds(1);

int ms_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}
}  // namespace

Result<json::value> WaitingCall::run(std::optional<Client> first) {
  auto t0 = Clock::now();
  std::optional<Clock::time_point> lost_since;  // no daemon has answered since then
  std::optional<Client> client = std::move(first);
  bool sent = false;
  int retry_ms = kFirstRetryMs;
  std::string why;
  for (;;) {
    auto attempt = Clock::now();
    int patience =
        lost_since ? kDaemonPatienceMs - ms_between(*lost_since, attempt) : kDaemonPatienceMs;
    if (!client) {
      auto c = Client::connect(true, std::max(patience, 1));
      if (c)
        client.emplace(std::move(*c));
      else
        why = c.error().message;
    }
    if (client) {
      proto::Deadline deadline;
      if (timeout_) {
        Millis waited(ms_between(t0, Clock::now()));
        deadline.timeout = std::max(Millis(0), *timeout_ - waited);
        if (waited > Millis(0)) deadline.waited = std::min(waited, *timeout_);
      }
      json::object args = make_(sent, deadline);
      client->set_hello_timeout(std::max(patience, 1));
      client->watch_reader(hooks_.watch_fd);
      client->watch_input(hooks_.input_fd, hooks_.on_input);
      auto on_data = hooks_.on_data ? hooks_.on_data : [](std::uint8_t, std::string_view) {};
      auto r = client->stream(op_, std::move(args), on_data, hooks_.on_event, hooks_.on_tick,
                              hooks_.on_chunk);
      sent = true;
      if (r || !client->lost()) return r;
      why = r.error().message;
      if (client->answered() &&
          Clock::now() - attempt >= kAliveAtLeast) {  // alive until now: a new loss
        lost_since = Clock::now();
        retry_ms = kFirstRetryMs;
      }
      client.reset();
    }
    if (!lost_since) lost_since = attempt;
    int left = kDaemonPatienceMs - ms_between(*lost_since, Clock::now());
    if (left <= 0) {
      gave_up_ = true;
      return make_error(Errc::unavailable,
                        "lost sbxd and no daemon answered within " +
                            format_duration(Millis(kDaemonPatienceMs)) + " (" + why +
                            "); the answer is unknown: ask again once sbxd runs");
    }
    pause(std::min(retry_ms, left));
    retry_ms = std::min(retry_ms * 2, kMaxRetryMs);
  }
}

void WaitingCall::pause(int ms) const {
  // Sleeps in poll(), still watching the reader and ticking the progress line.
  auto until = Clock::now() + std::chrono::milliseconds(ms);
  int watch = hooks_.watch_fd;
  for (int left = ms; left > 0; left = ms_between(Clock::now(), until)) {
    pollfd p[2] = {{watch, 0, 0}, {hooks_.input_fd, POLLIN, 0}};  // a negative fd is skipped
    int step = hooks_.on_tick ? std::min(left, Client::kTickMs) : left;
    int ready = ::poll(p, 2, step);
    if (ready > 0 && p[1].revents) hooks_.on_input();
    if (ready > 0 && (p[0].revents & POLLNVAL))
      watch = -1;
    else if (ready > 0 && p[0].revents)
      exit_as_if_sigpipe();
    if (ready == 0 && hooks_.on_tick) hooks_.on_tick();
  }
}

int WaitingCall::fail(const Error& e) const {
  int code = report(e);
  return gave_up_ ? kExitNoDaemon : code;
}

int WaitingCall::fail_code(const Error& e) const {
  return gave_up_ ? kExitNoDaemon : exit_code_for(e.code);
}

}  // namespace sbx::cli
