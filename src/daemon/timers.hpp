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
  /// True while `fn` of `id` is still to run.
  bool pending(Id id) const;

  class Timer;
  /// As after(), but the timer is owned by the handle: it is cancelled when the handle is
  /// dropped or replaced, so `fn` never runs once its owner is gone.
  Timer start(Millis delay, std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A timer that cancels itself when its handle goes or is given another timer. Its owner
/// must go before the Timers: a handle inside state that its own callback (or a connection
/// the loop still holds at exit) keeps alive would cancel into a Timers being destroyed, so
/// such state (the wait ops') keeps a plain Id and cancels it when it is done.
class Timers::Timer {
 public:
  Timer() = default;
  Timer(Timer&& o) noexcept : timers_(o.timers_), id_(o.id_) { o.id_ = 0; }
  Timer& operator=(Timer&& o) noexcept {
    if (this != &o) {
      cancel();
      timers_ = o.timers_;
      id_ = o.id_;
      o.id_ = 0;
    }
    return *this;
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  /// True until it has fired or was cancelled (also inside its own `fn`: false there).
  bool pending() const { return id_ && timers_->pending(id_); }
  void cancel() {
    if (id_) timers_->cancel(id_);
    id_ = 0;
  }

 private:
  friend class Timers;
  Timer(Timers& t, Id id) : timers_(&t), id_(id) {}
  Timers* timers_ = nullptr;
  Id id_ = 0;
};

}  // namespace sbx::daemon
