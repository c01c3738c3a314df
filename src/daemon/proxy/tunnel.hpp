#pragma once
// After a 101 Switching Protocols: bytes relayed both ways until both sides closed
// (each side's end is passed on as a half-close), one buffer per direction.

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

namespace sbx::daemon::proxy {

/// `a_to_b`, `b_to_a`: bytes already read past the heads, sent first. `keep` is held
/// as long as the tunnel runs (it counts as its session).
void start_tunnel(boost::asio::ip::tcp::socket a, std::string a_to_b,
                  boost::asio::ip::tcp::socket b, std::string b_to_a, std::shared_ptr<void> keep);

}  // namespace sbx::daemon::proxy
