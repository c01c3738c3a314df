#pragma once
// What a request handler may use: the process table, timers, paths and daemon facts.

#include <functional>
#include <string>

#include "common/clock.hpp"
#include "common/paths.hpp"
#include "daemon/connection.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/run/supervisor.hpp"
#include "daemon/timers.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class Proxy;

struct Context {
  boost::asio::io_context& io;
  Paths paths;
  Supervisor& supervisor;
  Timers& timers;
  LogWatch& log_watch;
  EpochMs started_at = 0;
  /// Set once a shutdown began: new processes are refused.
  bool stopping = false;
  /// Stops every process, then the daemon; `conn` (may be null) gets the reply when done.
  std::function<void(ConnPtr conn)> shutdown;
  /// Exits without stopping any process (they are adopted by the next sbxd).
  std::function<void(ConnPtr conn)> detach;
  /// The preview proxy of `sbx expose` (daemon/proxy/proxy.hpp).
  Proxy* proxy = nullptr;
};

}  // namespace sbx::daemon
