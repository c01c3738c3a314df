#include "daemon/run/report_watch.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>

#include "shim/protocol.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {
constexpr std::size_t kReportMax = 256;  ///< more than "exit STATUS\nrelay PID\n" is no report

/// The waiter writes its end in one write: a text that ends with a newline after "exit" is
/// all of it.
bool holds_end(const std::string& text) {
  int status = 0;
  return waiter::parse_exit(text.c_str(), status) && text.back() == '\n';
}
}  // namespace

struct ReportWatch::State : std::enable_shared_from_this<State> {
  asio::posix::stream_descriptor socket;
  std::string text;
  bool ended = false;  ///< end of file, or more than a report
  std::function<void(const std::string&)> on_end;

  State(asio::io_context& io, int fd, std::string seen) : socket(io, fd), text(std::move(seen)) {}

  /// Reads what is there; false once nothing more will come.
  bool read_now() {
    char buf[64];
    while (!ended && socket.is_open()) {
      ssize_t n = ::read(socket.native_handle(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kReportMax) break;
    }
    ended = true;
    return false;
  }

  void arm() {
    std::weak_ptr<State> weak = shared_from_this();
    socket.async_wait(asio::posix::stream_descriptor::wait_read,
                      [weak](boost::system::error_code ec) {
                        if (ec == asio::error::operation_aborted) return;
                        auto s = weak.lock();
                        if (!s || !s->on_end) return;
                        bool more = s->read_now();
                        if (!s->text.empty() && holds_end(s->text)) {
                          auto fn = std::move(s->on_end);
                          s->on_end = nullptr;
                          return fn(s->text);
                        }
                        if (more) s->arm();
                      });
  }
};

ReportWatch::ReportWatch(asio::io_context& io, UniqueFd socket, std::string seen)
    : state_(std::make_shared<State>(io, socket.release(), std::move(seen))) {}

ReportWatch::~ReportWatch() {
  state_->on_end = nullptr;
  boost::system::error_code ec;
  state_->socket.close(ec);
}

void ReportWatch::start(std::function<void(const std::string&)> on_end) {
  state_->on_end = std::move(on_end);
  if (!state_->text.empty() && holds_end(state_->text)) {  // it came with the first line
    std::weak_ptr<State> weak = state_;
    asio::post(state_->socket.get_executor(), [weak] {
      auto s = weak.lock();
      if (!s || !s->on_end) return;
      auto fn = std::move(s->on_end);
      s->on_end = nullptr;
      fn(s->text);
    });
    return;
  }
  state_->arm();
}

std::string ReportWatch::text() {
  state_->read_now();
  return state_->text;
}

void ReportWatch::held() {
  state_->on_end = nullptr;
  if (!state_->socket.is_open()) return;
  ssize_t n;
  do {
    n = ::write(state_->socket.native_handle(), &waiter::kHeld, 1);
  } while (n < 0 && errno == EINTR);
  boost::system::error_code ec;
  state_->socket.close(ec);
}

}  // namespace sbx::daemon
