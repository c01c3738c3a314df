#include "daemon/proxy/upstream.hpp"

#include <sys/socket.h>

#include <boost/asio/post.hpp>

#include "daemon/proxy/limits.hpp"

namespace sbx::daemon::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

Upstream::Upstream(const asio::any_io_executor& ex) : stream_(ex), buf_(kHeadLimit + kBodyChunk) {}

void Upstream::open(const Exposure& target, OpenFn done) {
  bool same = kept_ && kept_->id == target.id && kept_->port == target.port;
  kept_.reset();
  target_ = target;
  if (same && buf_.size() == 0 && still_open()) {
    return asio::post(stream_.get_executor(), [done] { done(true, true, ""); });
  }
  close();
  errors_.clear();
  connect(0, std::move(done));
}

void Upstream::release(bool reusable) {
  if (reusable && buf_.size() == 0)
    kept_ = target_;
  else
    close();
}

void Upstream::close() {
  error_code ignored;
  stream_.socket().close(ignored);
  buf_.clear();
  kept_.reset();
}

/// An idle connection the upstream closed (a keep-alive timeout) reads as its end.
bool Upstream::still_open() {
  if (!stream_.socket().is_open()) return false;
  char c;
  ssize_t n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Upstream::connect(int attempt, OpenFn done) {
  static const asio::ip::address kHosts[] = {asio::ip::address_v4::loopback(),
                                             asio::ip::address_v6::loopback()};
  if (attempt == 2) {
    return asio::post(stream_.get_executor(), [done, why = errors_] { done(false, false, why); });
  }
  tcp::endpoint ep(kHosts[attempt], static_cast<unsigned short>(target_.port));
  auto failed = [this, attempt, ep, done](const std::string& why) {
    if (!errors_.empty()) errors_ += "; ";
    errors_ += ep.address().to_string() + ": " + why;
    connect(attempt + 1, done);
  };
  error_code ec;
  stream_.socket().close(ec);
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return failed("no socket");
  stream_.socket().assign(ep.protocol(), fd, ec);
  if (ec) return failed(ec.message());
  stream_.expires_after(kConnectTimeout);
  stream_.async_connect(ep, [this, failed, done](error_code ec) {
    if (ec) return failed(ec.message());
    error_code ignored;
    // A head and its body go out in separate writes: Nagle's wait for the first's ACK
    // would add the peer's delayed-ACK time (~40 ms) to each exchange.
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    done(true, false, "");
  });
}

}  // namespace sbx::daemon::proxy
