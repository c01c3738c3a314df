#include "daemon/server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>

#include "common/fd.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/listen_unix.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/frame.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

class AsioConnection final : public Connection,
                             public std::enable_shared_from_this<AsioConnection> {
 public:
  /// `counter` is shared, not the server's: handlers still queued when the daemon exits
  /// destroy their connection after the server is gone.
  AsioConnection(local::socket sock, Context& ctx, std::shared_ptr<std::size_t> counter)
      : sock_(std::move(sock)), ctx_(ctx), counter_(std::move(counter)) {
    ++*counter_;
  }
  ~AsioConnection() override { --*counter_; }

  void start() { read(); }
  /// Closes now, whatever is queued: the daemon is exiting.
  void abort() { close(); }

  void send(proto::FrameKind kind, std::uint8_t flags, std::string_view payload) override {
    if (closed_ || finishing_) return;
    proto::encode_frame(out_, kind, flags, payload);
    flush();
  }

  void finish(proto::FrameKind kind, std::string_view payload) override {
    if (closed_ || finishing_) return;
    proto::encode_frame(out_, kind, 0, payload);
    finishing_ = true;
    flush();
  }

  std::size_t queued() const override { return out_.size() + inflight_.size(); }
  bool closed() const override { return closed_; }
  void on_drain(std::function<void()> fn) override { drain_ = std::move(fn); }
  void on_close(std::function<void()> fn) override {
    if (closed_)
      fn();
    else
      close_fns_.push_back(std::move(fn));
  }

 private:
  void read() {
    sock_.async_read_some(asio::buffer(rbuf_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            if (ec) {
                              self->close();
                              return;
                            }
                            self->reader_.feed(std::string_view(self->rbuf_.data(), n));
                            while (!self->closed_ && !self->finishing_) {
                              auto frame = self->reader_.next();
                              if (!frame) break;
                              self->handle(*frame);
                            }
                            if (self->reader_.failed() && !self->finishing_)
                              self->refuse(self->reader_.error());
                            if (!self->closed_) self->read();
                          });
  }

  void refuse(const std::string& why) {
    spdlog::warn("client refused: {}", why);
    finish(proto::FrameKind::response, proto::error_payload(make_error(Errc::protocol, why)));
  }

  void handle(const proto::Frame& f) {
    if (!got_hello_) {
      if (f.kind != proto::FrameKind::hello) return refuse("expected HELLO as the first frame");
      auto st = proto::check_hello(f.payload, "the client");
      send(proto::FrameKind::hello, 0, proto::hello_payload("sbxd"));
      if (!st) return refuse(st.error().message);
      got_hello_ = true;
      return;
    }
    if (got_request_ || f.kind != proto::FrameKind::request) {
      return refuse("unexpected frame: one REQUEST per connection");
    }
    got_request_ = true;
    auto body = proto::parse_json(f.payload);
    if (!body) return refuse(body.error().message);
    auto* o = body->if_object();
    auto op = o ? proto::get_opt_string(*o, "op") : std::nullopt;
    if (!op) return refuse("request without an 'op'");
    auto handler = find_op(*op);
    if (!handler) return refuse("unknown op '" + *op + "': the daemon may be older than this sbx");
    static const boost::json::object kNoArgs;
    const auto* args = o->if_contains("args");
    if (args && !args->is_object()) return refuse("'args' must be a JSON object");
    const auto& args_obj = args ? args->get_object() : kNoArgs;
    spdlog::debug("request {}", *op);
    handler(ctx_, args_obj, shared_from_this());
  }

  void flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (finishing_) close();
      return;
    }
    writing_ = true;
    inflight_.swap(out_);
    out_.clear();
    asio::async_write(sock_, asio::buffer(inflight_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->inflight_.clear();
                        if (ec) {
                          self->close();
                          return;
                        }
                        if (self->drain_ && self->queued() < kLowWater) {
                          auto fn = std::move(self->drain_);
                          self->drain_ = nullptr;
                          fn();
                        }
                        self->flush();
                      });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    sock_.shutdown(local::socket::shutdown_both, ignored);
    sock_.close(ignored);
    drain_ = nullptr;
    auto fns = std::move(close_fns_);
    close_fns_.clear();
    for (auto& fn : fns) fn();
  }

  local::socket sock_;
  Context& ctx_;
  std::shared_ptr<std::size_t> counter_;
  proto::FrameReader reader_;
  // Not zeroed, and small: each connection allocates one, a request is a few KiB (a larger
  // one takes more reads), and a 64 KiB block per connection cost a memset and a heap
  // consolidation on every `sbx` call.
  std::array<char, 16384> rbuf_;
  std::string out_;
  std::string inflight_;
  bool writing_ = false;
  bool closed_ = false;
  bool finishing_ = false;
  bool got_hello_ = false;
  bool got_request_ = false;
  std::function<void()> drain_;
  std::vector<std::function<void()>> close_fns_;
};

}  // namespace

/// How long accepting pauses when accept(2) fails for want of descriptors or memory, and
/// how many waiting clients are answered with an error before that pause.
constexpr Millis kAcceptBackoff{100};
constexpr int kRefuseBurst = 64;

struct Server::Impl {
  asio::io_context& io;
  Context& ctx;
  local::acceptor acceptor;
  std::string socket_path;
  std::shared_ptr<std::size_t> connections;
  bool open = false;
  /// Every connection, to close those still open when the daemon exits: a pending wait
  /// holds its connection and the connection its wait, and only closing breaks that.
  std::vector<std::weak_ptr<AsioConnection>> live;

  /// Opened while descriptors are plenty, closed for an instant when they run out: room
  /// to accept a waiting client and tell it why it is not served.
  UniqueFd reserve;
  bool exhausted = false;   ///< in an episode of EMFILE/ENFILE, logged once
  std::size_t refused = 0;  ///< clients refused in this episode
  Timers::Timer backoff;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, local::socket sock) {
      if (ec == asio::error::operation_aborted || !open) return;
      if (!ec) {
        if (exhausted) {
          spdlog::info("file descriptors are available again; {} client(s) were refused meanwhile",
                       refused);
          exhausted = false;
          refused = 0;
        }
        if (!reserve) reserve.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        admit(std::move(sock));
        return accept();
      }
      if (out_of_fds(ec.value()) || ec.value() == ENOBUFS || ec.value() == ENOMEM)
        return out_of_resources(ec);
      spdlog::warn("accept failed: {}", ec.message());
      accept();
    });
  }

  /// accept(2) fails while clients wait: re-arming at once would spin (the socket stays
  /// readable). Answer the waiting clients with an error through the reserve descriptor,
  /// then pause accepting for a moment.
  void out_of_resources(const boost::system::error_code& ec) {
    if (!exhausted) {
      spdlog::error("cannot accept clients: {}; refusing them until descriptors are free again",
                    ec.message());
      exhausted = true;
    }
    std::string reply;
    proto::encode_frame(
        reply, proto::FrameKind::response, 0,
        proto::error_payload(make_error(Errc::unavailable, out_of_fds_message("serve a client"))));
    for (int i = 0; i < kRefuseBurst && reserve && out_of_fds(ec.value()); ++i) {
      reserve.reset();
      int client =
          ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (client >= 0) {
        ++refused;
        char sink[4096];  // its request: a close over unread bytes would reset the connection
        for (int k = 0; k < 16 && ::recv(client, sink, sizeof sink, 0) > 0; ++k) {
        }
        ssize_t ignored = ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        (void)ignored;
        ::close(client);
      }
      reserve.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (client < 0) break;  // none waits any more
    }
    backoff = ctx.timers.start(kAcceptBackoff, [this] {
      if (open) accept();
    });
  }

  void admit(local::socket sock) {
    int fd = sock.native_handle();
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
      spdlog::warn("refused a client of uid {} (pid {}): only uid {} is served", cred.uid, cred.pid,
                   ::geteuid());
      return;  // the socket closes as it goes out of scope
    }
    auto conn = std::make_shared<AsioConnection>(std::move(sock), ctx, connections);
    std::erase_if(live, [](const auto& w) { return w.expired(); });
    live.push_back(conn);
    conn->start();
  }
};

Server::Server(asio::io_context& io, Context& ctx)
    : impl_(std::make_unique<Impl>(Impl{io,
                                        ctx,
                                        local::acceptor(io),
                                        {},
                                        std::make_shared<std::size_t>(0),
                                        false,
                                        {},
                                        {},
                                        false,
                                        0,
                                        {}})) {
  impl_->reserve.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

Server::~Server() {
  for (auto& w : impl_->live) {
    if (auto c = w.lock()) c->abort();
  }
}

Status Server::listen(const std::string& socket_path) {
  auto fd = listen_unix(socket_path);
  if (!fd) return fd.error();
  impl_->acceptor.assign(local(), fd->release());
  impl_->socket_path = socket_path;
  impl_->open = true;
  impl_->accept();
  return ok_status();
}

Status Server::adopt(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return make_error(Errc::failed, "fd " + std::to_string(fd) +
                                        " passed by the service manager is not a stream socket");
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  impl_->acceptor.assign(local(), fd);
  impl_->open = true;
  impl_->accept();
  return ok_status();
}

void Server::close() {
  if (!impl_->open) return;
  impl_->open = false;
  impl_->backoff.cancel();
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  if (!impl_->socket_path.empty()) ::unlink(impl_->socket_path.c_str());
}

std::size_t Server::connections() const { return *impl_->connections; }

}  // namespace sbx::daemon
