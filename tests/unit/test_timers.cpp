#include "doctest.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "daemon/timers.hpp"

using sbx::Millis;
using sbx::daemon::Timers;

TEST_CASE("Timers: a timer runs once, after its delay, on the loop") {
  boost::asio::io_context io;
  Timers timers(io);
  int runs = 0;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point ran;
  Timers::Id id = timers.after(Millis(20), [&] {
    ++runs;
    ran = std::chrono::steady_clock::now();
  });
  CHECK(id != 0);
  CHECK(runs == 0);  // not before the loop runs it
  io.run();
  CHECK(runs == 1);
  CHECK(ran - start >= Millis(20));  // never early
}

TEST_CASE("Timers: timers run in the order of their deadlines, not of their creation") {
  boost::asio::io_context io;
  Timers timers(io);
  std::string order;
  Timers::Id late = timers.after(Millis(40), [&] { order += 'c'; });
  Timers::Id soon = timers.after(Millis(0), [&] { order += 'a'; });
  Timers::Id mid = timers.after(Millis(15), [&] { order += 'b'; });
  CHECK(late != soon);
  CHECK(soon != mid);
  CHECK(late != mid);
  io.run();
  CHECK(order == "abc");
}

TEST_CASE("Timers: a cancelled timer never runs, and cancel is safe on any id") {
  boost::asio::io_context io;
  Timers timers(io);
  bool ran = false;
  Timers::Id id = timers.after(Millis(5), [&] { ran = true; });
  timers.cancel(id);
  timers.cancel(id);  // already cancelled
  timers.cancel(0);   // never a timer
  timers.cancel(id + 1000);
  io.run();  // returns: a cancelled timer is no work
  CHECK_FALSE(ran);
  Timers::Id done = timers.after(Millis(0), [] {});
  io.restart();
  io.run();
  timers.cancel(done);  // expired
}

TEST_CASE("Timers: cancelling a timer whose time had already come still stops it") {
  // Both deadlines pass before the loop runs; whichever handler runs first cancels the
  // other, whose expiry is already queued without an error code.
  boost::asio::io_context io;
  Timers timers(io);
  int runs = 0;
  Timers::Id a = 0, b = 0;
  a = timers.after(Millis(0), [&] {
    ++runs;
    timers.cancel(b);
  });
  b = timers.after(Millis(0), [&] {
    ++runs;
    timers.cancel(a);
  });
  io.run();
  CHECK(runs == 1);
}

TEST_CASE("Timers: a handler may start the next timer") {
  boost::asio::io_context io;
  Timers timers(io);
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 3) timers.after(Millis(1), tick);
  };
  timers.after(Millis(1), tick);
  io.run();
  CHECK(ticks == 3);
}

TEST_CASE("Timers::Timer: a dropped or replaced handle cancels its timer; a moved one keeps it") {
  boost::asio::io_context io;
  Timers timers(io);
  std::string ran;
  {
    Timers::Timer dropped = timers.start(Millis(0), [&] { ran += 'd'; });
    CHECK(dropped.pending());
  }
  Timers::Timer replaced = timers.start(Millis(0), [&] { ran += 'r'; });
  replaced = timers.start(Millis(1), [&] { ran += 'n'; });  // the first never runs
  Timers::Timer moved_from = timers.start(Millis(2), [&] { ran += 'm'; });
  Timers::Timer moved_to = std::move(moved_from);
  CHECK_FALSE(moved_from.pending());  // NOLINT: a moved-from handle owns nothing
  CHECK(moved_to.pending());
  Timers::Timer self_cancelled;
  self_cancelled = timers.start(Millis(0), [&] {
    CHECK_FALSE(self_cancelled.pending());  // inside its own fn it is no longer pending
    ran += 's';
  });
  io.run();
  CHECK(ran == "snm");
  CHECK_FALSE(replaced.pending());  // fired
  moved_to.cancel();                // after firing: no effect
}
