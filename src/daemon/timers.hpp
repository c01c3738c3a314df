#pragma once
// One-shot timers on the daemon's event loop, without Asio in the header.

#include <cstdint>
#include <functional>
#include <memory>

#include "common/duration.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class Timers {
 public:
  using Id = std::uint64_t;  ///< 0 is never a timer
  explicit Timers(boost::asio::io_context& io);
  ~Timers();
  /// Runs `fn` on the loop after `delay`, unless cancelled first.
  Id after(Millis delay, std::function<void()> fn);
  /// After this, `fn` never runs, even if its time had already come. Safe to call with 0,
  /// an expired or an already cancelled id.
  void cancel(Id id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
