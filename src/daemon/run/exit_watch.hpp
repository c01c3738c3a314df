#pragma once
// Learning, on the event loop and never blocking it, that one process ended: through its
// pidfd, or, when none can be opened (the daemon is out of descriptors), by checking it
// every kExitPollInterval until a pidfd opens again. A pidfd names the process, never a
// reused pid.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "daemon/timers.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class ExitWatch {
 public:
  /// Watches `pid`: when `reap`, it is our unreaped child, reaped here with waitid(WNOHANG)
  /// once it ended; else `alive` tells whether it still runs. `id` names the run in the log.
  ExitWatch(boost::asio::io_context& io, Timers& timers, std::string id, pid_t pid, bool reap,
            std::function<bool()> alive);
  /// No `on_end` is called once the watch is dropped.
  ~ExitWatch();
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;

  /// Calls `on_end` once, from the loop, when the process ended (`on_end` may drop this
  /// watch). False, without calling it, when it was gone already (reaped, if it was ours).
  [[nodiscard]] bool start(std::function<void()> on_end);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sbx::daemon
