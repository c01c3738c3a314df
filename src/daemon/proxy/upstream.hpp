#pragma once
// A session's connection to the exposed port: kept alive between requests to the same
// exposure, opened to 127.0.0.1, then ::1 when that fails. Included by session.cpp only.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <functional>
#include <optional>
#include <string>

#include "daemon/proxy/routes.hpp"

namespace sbx::daemon::proxy {

class Upstream {
 public:
  /// ok: connected; reused: the connection kept from the last request; why: what each
  /// address answered, when not ok.
  using OpenFn = std::function<void(bool ok, bool reused, const std::string& why)>;

  explicit Upstream(const boost::asio::any_io_executor& ex);

  boost::beast::tcp_stream& stream() { return stream_; }
  boost::beast::flat_buffer& buffer() { return buf_; }

  /// The kept connection when it is to `target` and still open with nothing unread, else
  /// a new one. `done` runs from the loop, never inside this call.
  void open(const Exposure& target, OpenFn done);
  /// The response ended: keep the connection for the next request only when `reusable`.
  void release(bool reusable);
  void close();

 private:
  void connect(int attempt, OpenFn done);
  bool still_open();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buf_;
  std::optional<Exposure> kept_;  ///< the exposure an idle kept connection is to
  Exposure target_;
  std::string errors_;
};

}  // namespace sbx::daemon::proxy
