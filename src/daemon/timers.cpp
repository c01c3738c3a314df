#include "daemon/timers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <unordered_map>

namespace sbx::daemon {

struct Timers::Impl {
  boost::asio::io_context& io;
  Id next = 1;
  std::unordered_map<Id, std::unique_ptr<boost::asio::steady_timer>> live;
};

Timers::Timers(boost::asio::io_context& io) : impl_(std::make_unique<Impl>(Impl{io, 1, {}})) {}
Timers::~Timers() = default;

Timers::Id Timers::after(Millis delay, std::function<void()> fn) {
  Id id = impl_->next++;
  auto timer = std::make_unique<boost::asio::steady_timer>(impl_->io, delay);
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    // A timer that expired but whose handler had not run yet when it was cancelled comes
    // here without an error: only the table says it was cancelled.
    auto it = impl_->live.find(id);
    if (ec || it == impl_->live.end()) return;
    impl_->live.erase(it);
    fn();
  });
  impl_->live.emplace(id, std::move(timer));
  return id;
}

void Timers::cancel(Id id) {
  auto it = impl_->live.find(id);
  if (it == impl_->live.end()) return;
  it->second->cancel();
  impl_->live.erase(it);
}

bool Timers::pending(Id id) const { return impl_->live.count(id) > 0; }

Timers::Timer Timers::start(Millis delay, std::function<void()> fn) {
  return Timer(*this, after(delay, std::move(fn)));
}

}  // namespace sbx::daemon
