// One client connection of the preview proxy: read a request head (bounded in size and
// time), route it by Host, relay it to the exposed port (upstream.hpp) and the response
// back, bodies streamed through one buffer each way; after a 101 the
// two connections become a tunnel.

#include "daemon/proxy/session.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/none.hpp>
#include <optional>

#include "daemon/proxy/limits.hpp"
#include "daemon/proxy/tunnel.hpp"
#include "daemon/proxy/upstream.hpp"

namespace sbx::daemon::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string listing(const SharedState& s, std::string_view host) {
  std::string out = "sbx: no exposure is named by the host '" + std::string(host) + "'\n";
  if (s.routes.empty()) return out + "nothing is exposed: see 'sbx expose ID PORT'\n";
  out += "exposed here:\n";
  for (const auto& e : s.routes.all()) {
    out += "  " + e.name + "  " + preview_url(e.name, s.port) + "  (port " +
           std::to_string(e.port) + " of '" + e.id + "')\n";
  }
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket sock, std::shared_ptr<SharedState> state)
      : state_(std::move(state)),
        client_(std::move(sock)),
        up_(client_.get_executor()),
        client_buf_(kHeadLimit + kBodyChunk) {
    ++state_->sessions;
  }
  ~Session() { --state_->sessions; }

  void start() {
    error_code ec;
    auto peer = client_.socket().remote_endpoint(ec);
    client_ip_ = ec ? "unknown" : peer.address().to_string();
    // A head and its body go out in separate writes: Nagle's wait for the ACK of the
    // first would add the peer's delayed-ACK time (~40 ms) to every small response.
    client_.socket().set_option(tcp::no_delay(true), ec);
    read_head();
  }

 private:
  void read_head() {
    req_.emplace();
    req_->header_limit(kHeadLimit);
    req_->body_limit(boost::none);  // streamed, never held
    responded_ = false;
    client_.expires_after(kHeadTimeout);  // the whole head, however slowly it trickles
    http::async_read_header(
        client_, client_buf_, *req_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(error_code ec) {
    if (ec == http::error::header_limit) {
      return fail(http::status::request_header_fields_too_large,
                  "sbx: the request head is over " + std::to_string(kHeadLimit >> 10) + " KiB\n");
    }
    // A timeout closed the socket already; the peer's end or reset needs no answer.
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset)
      return;
    if (ec) return fail(http::status::bad_request, "sbx: bad request: " + ec.message() + "\n");
    auto& req = req_->get();
    version_ = req.version() == 10 ? 10 : 11;
    keep_alive_ = req.keep_alive();
    upgrade_ = req_->upgrade();
    head_only_ = req.method() == http::verb::head;
    no_body_ = req_->is_done();
    host_ = std::string(req[http::field::host]);
    const Exposure* e = state_->routes.route(host_);
    if (!e) return fail(http::status::not_found, listing(*state_, host_));
    target_ = *e;
    std::string forwarded(req["X-Forwarded-For"]);
    req.set("X-Forwarded-For", forwarded.empty() ? client_ip_ : forwarded + ", " + client_ip_);
    req.set("X-Forwarded-Proto", "http");
    req.set("X-Forwarded-Host", host_);
    if (!upgrade_) req.keep_alive(true);  // the upstream connection is kept for the next
    // The proxy answers "100 Continue" itself: the upstream sees a plain request.
    expect_ = beast::iequals(req[http::field::expect], "100-continue");
    if (expect_) req.erase(http::field::expect);
    open_upstream(false);
  }

  /// `fresh`: a new connection even if one is kept (a kept one just failed).
  void open_upstream(bool fresh) {
    if (fresh) up_.close();
    up_.open(target_, [self = shared_from_this()](bool ok, bool reused, const std::string& why) {
      if (!ok) {
        return self->fail(http::status::bad_gateway,
                          "sbx: '" + self->target_.id + "' is not listening on port " +
                              std::to_string(self->target_.port) + " (" + why + ")\n");
      }
      self->reused_ = reused;
      self->send_head();
    });
  }

  /// The head goes out with the body's first bytes (or alone, without a body): one write.
  void send_head() {
    req_sr_.emplace(req_->get());
    if (!expect_) return relay_request();
    client_.expires_after(kIdleTimeout);
    asio::async_write(client_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (!ec) self->relay_request();
                      });
  }

  void relay_request() {
    relay_body(*req_, *req_sr_, client_, client_buf_, upstream_(),
               [this](error_code ec, bool reading) {
                 if (!ec) return read_response();
                 if (!reading) upstream_failed(ec);  // else the client went away: nothing to answer
               });
  }

  void read_response() {
    res_.emplace();
    res_->header_limit(kHeadLimit);
    res_->body_limit(boost::none);
    if (head_only_) res_->skip(true);
    upstream_().expires_after(kIdleTimeout);
    http::async_read_header(
        upstream_(), up_.buffer(), *res_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_response(ec); });
  }

  void on_response(error_code ec) {
    if (ec) return upstream_failed(ec);
    auto& res = res_->get();
    unsigned status = res.result_int();
    if (status == 101 && upgrade_) return send_response_head(true);
    if (status >= 100 && status < 200) return read_response();  // 1xx: dropped
    up_reusable_ = !res.need_eof();                             // as the upstream framed it
    bool bodiless = head_only_ || status == 204 || status == 304;
    if (!bodiless && !res.has_content_length() && !res.chunked()) {
      // The upstream ends its body by closing: chunked lets the client's connection stay.
      if (version_ == 11)
        res.chunked(true);
      else
        keep_alive_ = false;
    }
    res.version(version_);
    res.keep_alive(keep_alive_);
    send_response_head(false);
  }

  /// A response whose first body bytes (or its end) came with its head is written with
  /// them, in one write; else the head goes first (a stream of events may wait long).
  void send_response_head(bool tunnel) {
    responded_ = true;
    res_sr_.emplace(res_->get());
    if (!tunnel && (res_->is_done() || up_.buffer().size() > 0)) return relay_response();
    client_.expires_after(kIdleTimeout);
    http::async_write_header(client_, *res_sr_,
                             [self = shared_from_this(), tunnel](error_code ec, std::size_t) {
                               if (ec) return;
                               if (tunnel) return self->become_tunnel();
                               self->relay_response();
                             });
  }

  void relay_response() {
    relay_body(*res_, *res_sr_, upstream_(), up_.buffer(), client_, [this](error_code ec, bool) {
      if (ec || !keep_alive_) return close_client();
      up_.release(up_reusable_);
      req_sr_.reset();
      res_sr_.reset();
      res_.reset();
      read_head();
    });
  }

  void become_tunnel() {
    std::string to_upstream = beast::buffers_to_string(client_buf_.data());
    std::string to_client = beast::buffers_to_string(up_.buffer().data());
    client_.expires_never();
    upstream_().expires_never();
    start_tunnel(client_.release_socket(), std::move(to_upstream), upstream_().release_socket(),
                 std::move(to_client), shared_from_this());
  }

  /// Relays a body from `in` (its head read by `p`) to `out` (its head written by `sr`),
  /// one buffer at a time; `done(ec, failed_reading)` once it is all written, or failed.
  template <bool IsRequest, class Done>
  void relay_body(http::parser<IsRequest, http::buffer_body>& p,
                  http::serializer<IsRequest, http::buffer_body>& sr, beast::tcp_stream& in,
                  beast::flat_buffer& in_buf, beast::tcp_stream& out, Done done) {
    auto self = shared_from_this();
    auto write = [this, self, &p, &sr, &in, &in_buf, &out, done] {
      out.expires_after(kIdleTimeout);
      http::async_write(
          out, sr, [this, self, &p, &sr, &in, &in_buf, &out, done](error_code ec, std::size_t) {
            if (ec == http::error::need_buffer) ec = {};
            if (ec || sr.is_done()) return done(ec, false);
            relay_body(p, sr, in, in_buf, out, done);
          });
    };
    auto& body = p.get().body();
    if (p.is_done()) {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      return write();
    }
    body.data = chunk_.data();
    body.size = chunk_.size();
    in.expires_after(kIdleTimeout);
    http::async_read_some(in, in_buf, p, [this, self, &p, write, done](error_code ec, std::size_t) {
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return done(ec, true);
      auto& body = p.get().body();
      body.size = chunk_.size() - body.size;
      // No bytes is no chunk: an empty one would end a chunked body.
      body.data = body.size ? chunk_.data() : nullptr;
      body.more = !p.is_done();
      write();
    });
  }

  void upstream_failed(error_code ec) {
    // A kept connection the upstream closed meanwhile: a request without a body is sent
    // again on a new one (one with a body may have been consumed).
    if (reused_ && !responded_ && no_body_ && !upgrade_) {
      reused_ = false;
      return open_upstream(true);
    }
    fail(http::status::bad_gateway, "sbx: port " + std::to_string(target_.port) + " of '" +
                                        target_.id + "' failed: " + ec.message() + "\n");
  }

  /// Answers with an error and closes; once a response began, only closes.
  void fail(http::status status, std::string text) {
    up_.close();
    if (responded_ || !client_.socket().is_open()) return close_client();
    responded_ = true;
    auto res = std::make_shared<http::response<http::string_body>>(status, version_);
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->keep_alive(false);
    res->body() = std::move(text);
    res->prepare_payload();
    client_.expires_after(kIdleTimeout);
    http::async_write(client_, *res, [self = shared_from_this(), res](error_code, std::size_t) {
      self->close_client();
    });
  }

  void close_client() {
    error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.socket().close(ignored);
    up_.close();
  }

  beast::tcp_stream& upstream_() { return up_.stream(); }

  std::shared_ptr<SharedState> state_;
  beast::tcp_stream client_;
  Upstream up_;
  beast::flat_buffer client_buf_;
  std::array<char, kBodyChunk> chunk_{};
  std::optional<http::request_parser<http::buffer_body>> req_;
  std::optional<http::request_serializer<http::buffer_body>> req_sr_;
  std::optional<http::response_parser<http::buffer_body>> res_;
  std::optional<http::response_serializer<http::buffer_body>> res_sr_;
  std::string client_ip_;
  std::string host_;
  Exposure target_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool upgrade_ = false;
  bool head_only_ = false;
  bool responded_ = false;  ///< a response head went to the client
  bool expect_ = false;     ///< the client waits for "100 Continue"
  bool reused_ = false;     ///< this request went on a kept upstream connection
  bool no_body_ = false;    ///< the request has none (so it can be sent again)
  bool up_reusable_ = false;
};

}  // namespace

void serve(tcp::socket client, std::shared_ptr<SharedState> state) {
  std::make_shared<Session>(std::move(client), std::move(state))->start();
}

}  // namespace sbx::daemon::proxy
