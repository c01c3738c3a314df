#include "daemon/proxy/tunnel.hpp"

#include <array>
#include <boost/asio/write.hpp>

namespace sbx::daemon::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kTunnelChunk = 16 << 10;

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(tcp::socket a, tcp::socket b, std::shared_ptr<void> keep)
      : ends_{std::move(a), std::move(b)}, keep_(std::move(keep)) {}

  /// Direction i: from ends_[i] to ends_[1 - i].
  void start(std::string pending0, std::string pending1) {
    pending_[0] = std::move(pending0);
    pending_[1] = std::move(pending1);
    for (int i = 0; i < 2; ++i) {
      if (pending_[i].empty()) {
        read(i);
        continue;
      }
      asio::async_write(ends_[1 - i], asio::buffer(pending_[i]),
                        [self = shared_from_this(), i](error_code ec, std::size_t) {
                          self->pending_[i].clear();
                          if (ec) return self->abort();
                          self->read(i);
                        });
    }
  }

 private:
  void read(int i) {
    ends_[i].async_read_some(asio::buffer(bufs_[i]),
                             [self = shared_from_this(), i](error_code ec, std::size_t n) {
                               if (ec) return self->ended(i, ec);
                               self->write(i, n);
                             });
  }

  void write(int i, std::size_t n) {
    asio::async_write(ends_[1 - i], asio::buffer(bufs_[i].data(), n),
                      [self = shared_from_this(), i](error_code ec, std::size_t) {
                        if (ec) return self->abort();
                        self->read(i);
                      });
  }

  void ended(int i, error_code ec) {
    if (ec != asio::error::eof) return abort();
    error_code ignored;
    ends_[1 - i].shutdown(tcp::socket::shutdown_send, ignored);
    if (++closed_ == 2) abort();
  }

  void abort() {
    error_code ignored;
    for (auto& s : ends_) s.close(ignored);
  }

  std::array<tcp::socket, 2> ends_;
  std::array<std::array<char, kTunnelChunk>, 2> bufs_{};
  std::array<std::string, 2> pending_;
  int closed_ = 0;  ///< directions that saw their end
  std::shared_ptr<void> keep_;
};

}  // namespace

void start_tunnel(tcp::socket a, std::string a_to_b, tcp::socket b, std::string b_to_a,
                  std::shared_ptr<void> keep) {
  auto t = std::make_shared<Tunnel>(std::move(a), std::move(b), std::move(keep));
  t->start(std::move(a_to_b), std::move(b_to_a));
}

}  // namespace sbx::daemon::proxy
