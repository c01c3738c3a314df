#pragma once
// The CLI's side of the protocol: reach the daemon (starting it on first use), send one
// request, read its reply or stream.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/fd.hpp"
#include "common/paths.hpp"
#include "common/result.hpp"

namespace sbx::cli {

class Client {
 public:
  using DataFn = std::function<void(std::uint8_t stream, std::string_view bytes)>;
  using EventFn = std::function<void(const boost::json::value& event)>;
  /// Called about every kTickMs while waiting for the daemon (a progress indicator).
  using TickFn = std::function<void()>;
  static constexpr int kTickMs = 100;

  /// Connects to the daemon of the current SBX_HOME; when none runs and `start_daemon`,
  /// starts one (one per home, however many clients race) and waits until it listens.
  static Result<Client> connect(bool start_daemon = true);

  /// One request, one reply.
  Result<boost::json::value> call(std::string_view op, boost::json::object args, const TickFn& on_tick = {});
  /// A streaming request: DATA and EVENT frames go to the callbacks until the final frame,
  /// whose result is returned. Without `on_tick` it blocks in read(); with it, it polls the
  /// socket with a timeout and calls on_tick whenever kTickMs pass without a frame.
  Result<boost::json::value> stream(std::string_view op, boost::json::object args, const DataFn& on_data,
                                    const EventFn& on_event = {}, const TickFn& on_tick = {});

  const Paths& paths() const { return paths_; }

 private:
  Client(UniqueFd fd, Paths paths) : fd_(std::move(fd)), paths_(std::move(paths)) {}
  UniqueFd fd_;
  Paths paths_;
};

}  // namespace sbx::cli
