#include "daemon/ops/port_probe.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <optional>

namespace sbx::daemon {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct PortProbe::Impl {
  asio::io_context& io;
  ProbeSpec spec;
  tcp::socket sock;
  asio::steady_timer timer;
  std::size_t host_index = 0;
  std::string request;
  std::string response;
  std::array<char, 1024> buf{};
  std::function<void(ProbeResult)> done;
  std::optional<ProbeResult>
      best;  ///< the most telling failure so far: an HTTP answer beats a refusal
  bool cancelled = false;
  std::uint64_t generation = 0;  ///< tells a stale timer or handler from the current step

  Impl(asio::io_context& io_, ProbeSpec s) : io(io_), spec(std::move(s)), sock(io_), timer(io_) {}
};

PortProbe::PortProbe(asio::io_context& io, ProbeSpec spec)
    : impl_(std::make_unique<Impl>(io, std::move(spec))) {}
PortProbe::~PortProbe() = default;

void PortProbe::cancel() {
  impl_->cancelled = true;
  impl_->done = nullptr;
  boost::system::error_code ignored;
  impl_->timer.cancel();
  impl_->sock.close(ignored);
}

// Every handler holds the probe through shared_from_this and nothing else: no handler
// refers to another, so a probe pending when the loop is torn down is freed with it.
void PortProbe::run(std::function<void(ProbeResult)> done) {
  impl_->done = std::move(done);
  impl_->host_index = 0;
  try_host();
}

void PortProbe::try_host() {
  auto& I = *impl_;
  const std::string host = I.spec.hosts[I.host_index];
  auto addr = asio::ip::make_address(host);  // checked by the caller: numeric addresses only
  tcp::endpoint ep(addr, static_cast<unsigned short>(I.spec.port));
  std::uint64_t gen = ++I.generation;
  I.timer.expires_after(I.spec.deadline);
  I.timer.async_wait([self = shared_from_this(), gen, host](boost::system::error_code ec) {
    if (ec || self->impl_->generation != gen) return;
    self->finish(ProbeResult{false, host, 0,
                             "no answer within " + format_duration(self->impl_->spec.deadline)});
  });
  I.sock = tcp::socket(I.io);
  I.sock.async_connect(ep, [self = shared_from_this(), gen, host](boost::system::error_code ec) {
    if (self->impl_->generation != gen) return;
    if (ec) return self->finish(ProbeResult{false, host, 0, ec.message()});
    self->connected(gen, host);
  });
}

void PortProbe::connected(std::uint64_t gen, const std::string& host) {
  auto& I = *impl_;
  if (!I.spec.http_path) return finish(ProbeResult{true, host, 0, "accepting connections"});
  std::string host_header = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  I.request = "GET " + *I.spec.http_path + " HTTP/1.1\r\nHost: " + host_header + ":" +
              std::to_string(I.spec.port) +
              "\r\nUser-Agent: sbx\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  I.response.clear();
  asio::async_write(
      I.sock, asio::buffer(I.request),
      [self = shared_from_this(), gen, host](boost::system::error_code ec, std::size_t) {
        if (self->impl_->generation != gen) return;
        if (ec)
          return self->finish(ProbeResult{false, host, 0, "sending the request: " + ec.message()});
        self->read_status(gen, host);
      });
}

void PortProbe::read_status(std::uint64_t gen, const std::string& host) {
  impl_->sock.async_read_some(asio::buffer(impl_->buf), [self = shared_from_this(), gen, host](
                                                            boost::system::error_code ec,
                                                            std::size_t n) {
    auto& I = *self->impl_;
    if (I.generation != gen) return;
    I.response.append(I.buf.data(), n);
    auto eol = I.response.find("\r\n");
    if (eol == std::string::npos && !ec && I.response.size() < 4096)
      return self->read_status(gen, host);
    std::string line = I.response.substr(0, eol);
    int status = 0;
    if (line.rfind("HTTP/", 0) == 0 && line.size() >= 12) {
      try {
        status = std::stoi(line.substr(line.find(' ') + 1, 3));
      } catch (...) {
        status = 0;
      }
    }
    if (status == 0) {
      return self->finish(ProbeResult{
          false, host, 0, ec ? "no HTTP answer: " + ec.message() : "not an HTTP answer"});
    }
    bool ok = status >= I.spec.status_lo && status <= I.spec.status_hi;
    self->finish(ProbeResult{
        ok, host, status, "answered " + std::to_string(status) + " to GET " + *I.spec.http_path});
  });
}

void PortProbe::finish(ProbeResult r) {
  auto& I = *impl_;
  ++I.generation;  // whatever of this step is still pending is stale now
  boost::system::error_code ignored;
  I.timer.cancel();
  I.sock.close(ignored);
  if (I.cancelled) return;
  if (!r.ready && (!I.best || (r.status != 0 && I.best->status == 0))) I.best = r;
  if (!r.ready && ++I.host_index < I.spec.hosts.size()) return try_host();
  if (!r.ready) r = *I.best;
  auto done = std::move(I.done);
  I.done = nullptr;
  if (done) done(std::move(r));
}

}  // namespace sbx::daemon
