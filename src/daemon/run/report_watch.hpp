#pragma once
// The rest of a waiter's report socket once its program runs (shim/protocol.hpp): the end
// of the program as the waiter reports it, learnt on the loop, and the answer that tells
// the waiter the status is held, so that it writes no exit file.

#include <functional>
#include <memory>
#include <string>

#include "common/fd.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

class ReportWatch {
 public:
  /// `seen`: what was read past the waiter's first line already.
  ReportWatch(boost::asio::io_context& io, UniqueFd socket, std::string seen);
  /// No `on_end` is called once the watch is dropped; the socket closes, which tells a
  /// waiter not yet answered to write its exit file.
  ~ReportWatch();
  ReportWatch(const ReportWatch&) = delete;
  ReportWatch& operator=(const ReportWatch&) = delete;

  /// Calls `on_end(text)` once, from the loop, when the waiter has reported the program's
  /// end: `text` holds "exit STATUS" (and "relay PID" if it left one). Nothing is called
  /// if the socket ends first: the waiter is gone, which its exit watch tells.
  void start(std::function<void(const std::string&)> on_end);
  /// All the waiter reported after its first line, read now without waiting.
  std::string text();
  /// Tells the waiter that a durable record holds its status (kHeld): it ends without
  /// its exit file. The socket is closed; nothing is called any more.
  void held();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sbx::daemon
