#pragma once
// One client connection of the preview proxy (session.cpp), and what the proxy shares
// with its sessions. Included by the proxy's own .cpp files only: it brings in Asio.

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>

#include "daemon/proxy/routes.hpp"

namespace sbx::daemon::proxy {

/// What sessions read at each request (so an unexpose applies to open connections too).
struct SharedState {
  Routes routes;
  int port = 0;              ///< the proxy's, for X-Forwarded-Host and messages
  std::size_t sessions = 0;  ///< open client connections
};

/// Serves HTTP/1.1 requests on `client` until it closes, a limit is passed or an
/// Upgrade turns it into a tunnel.
void serve(boost::asio::ip::tcp::socket client, std::shared_ptr<SharedState> state);

}  // namespace sbx::daemon::proxy
