#include "daemon/proxy/proxy.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <map>

#include "common/defaults.hpp"
#include "daemon/proxy/limits.hpp"
#include "daemon/proxy/session.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/// A listening socket on `ep`, close-on-exec from its creation; `why` says what failed.
Result<tcp::acceptor> listen_on(asio::io_context& io, const tcp::endpoint& ep,
                                boost::system::error_code& why) {
  tcp::acceptor a(io);
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  auto where = [&] {
    auto addr = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
  };
  if (fd < 0) return make_error(Errc::failed, "cannot listen on " + where() + ": socket failed");
  boost::system::error_code ec;
  a.assign(ep.protocol(), fd, ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) a.set_option(asio::ip::v6_only(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  why = ec;
  if (ec) {
    return make_error(Errc::failed,
                      "cannot listen on " + where() + ": " + ec.message() +
                          "; choose another port with SBX_PROXY_PORT (sbxd --proxy-port)");
  }
  return a;
}

}  // namespace

struct Proxy::Impl {
  asio::io_context& io;
  Supervisor& supervisor;
  int asked_port;  ///< 0: any; once bound, the port found is used again
  std::shared_ptr<proxy::SharedState> state;
  std::vector<tcp::acceptor> acceptors;
  std::map<std::string, Supervisor::WatchId> end_watches;  ///< per exposed id

  Status listen() {
    if (!acceptors.empty()) return ok_status();
    // Port 0: the kernel picks one on 127.0.0.1 and ::1 takes the same, which another
    // program may hold: then pick again.
    for (int attempt = 0; attempt < 8; ++attempt) {
      int port = state->port ? state->port : asked_port;
      boost::system::error_code why;
      auto v4 = listen_on(io, tcp::endpoint(asio::ip::address_v4::loopback(), port), why);
      if (!v4) return v4.error();
      port = v4->local_endpoint().port();
      auto v6 = listen_on(io, tcp::endpoint(asio::ip::address_v6::loopback(), port), why);
      // A host without IPv6 is served on 127.0.0.1 only.
      if (!v6 && why != std::errc::address_not_available &&
          why != std::errc::address_family_not_supported) {
        if (asked_port == 0 && state->port == 0) continue;
        return v6.error();
      }
      acceptors.push_back(std::move(*v4));
      if (v6) acceptors.push_back(std::move(*v6));
      state->port = port;
      for (auto& a : acceptors) accept(a);
      spdlog::info("preview proxy listening on port {}", port);
      return ok_status();
    }
    return make_error(Errc::failed, "cannot find a free port for the proxy on 127.0.0.1 and ::1");
  }

  void accept(tcp::acceptor& a) {
    a.async_accept([this, &a, state = state](boost::system::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !a.is_open()) return;
      if (!ec) {
        ::fcntl(sock.native_handle(), F_SETFD, FD_CLOEXEC);
        if (state->sessions < proxy::kMaxSessions) proxy::serve(std::move(sock), state);
      } else {
        spdlog::warn("proxy: accept failed: {}", ec.message());
      }
      accept(a);
    });
  }

  void close() {
    for (auto& a : acceptors) {
      boost::system::error_code ignored;
      a.close(ignored);
    }
    if (!acceptors.empty()) spdlog::info("preview proxy closed: nothing is exposed");
    acceptors.clear();
  }

  void forget(const std::string& id) {
    if (state->routes.has(id)) return;
    if (auto it = end_watches.find(id); it != end_watches.end()) {
      supervisor.unwatch_end(id, it->second);
      end_watches.erase(it);
    }
    if (state->routes.empty()) close();
  }
};

Proxy::Proxy(asio::io_context& io, Supervisor& supervisor, int port)
    : impl_(std::make_unique<Impl>(
          Impl{io, supervisor, port, std::make_shared<proxy::SharedState>(), {}, {}})) {}

Proxy::~Proxy() { impl_->close(); }

Result<Exposure> Proxy::expose(const std::string& id, int port,
                               const std::optional<std::string>& name) {
  auto& I = *impl_;
  auto found = I.supervisor.lookup(id);
  if (!found) return found.error();
  if (auto st = check_expose_port(port, this->port()); !st) return st.error();
  if ((*found)->ended()) {
    return make_error(Errc::failed, "'" + id + "' has ended (" + status_name((*found)->status) +
                                        "): start it again, then expose its port");
  }
  if (auto st = I.listen(); !st) return st.error();
  if (auto st = check_expose_port(port, this->port()); !st) {  // port 0 just found this one
    if (I.state->routes.empty()) I.close();
    return st.error();
  }
  auto added = I.state->routes.add(id, port, name ? *name : default_expose_name(port, id));
  if (!added) {
    if (I.state->routes.empty()) I.close();
    return added.error();
  }
  if (!I.end_watches.contains(id)) {
    I.end_watches[id] = I.supervisor.watch_end(id, [&I, id](const ProcessRecord&) {
      I.end_watches.erase(id);
      I.state->routes.remove(id);
      I.forget(id);
    });
  }
  return added;
}

std::vector<Exposure> Proxy::unexpose(const std::string& id, std::optional<int> port) {
  auto removed = impl_->state->routes.remove(id, port);
  impl_->forget(id);
  return removed;
}

const std::vector<Exposure>& Proxy::exposures() const { return impl_->state->routes.all(); }

int Proxy::port() const { return impl_->state->port ? impl_->state->port : impl_->asked_port; }

bool Proxy::listening() const { return !impl_->acceptors.empty(); }

void Proxy::close() { impl_->close(); }

}  // namespace sbx::daemon
