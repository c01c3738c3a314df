#pragma once
// A client connection as the request handlers see it. The Asio implementation lives in
// server.cpp; handlers only queue frames and learn when the peer goes away.

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/result.hpp"
#include "proto/protocol.hpp"

namespace sbx::daemon {

class Connection {
 public:
  virtual ~Connection() = default;

  /// Queues a frame. Never blocks: a slow reader makes the queue grow, and producers of
  /// bulk data (log streaming) check queued() and wait for on_drain().
  virtual void send(proto::FrameKind kind, std::uint8_t flags, std::string_view payload) = 0;
  /// Queues the last frame; the connection closes once everything is written.
  virtual void finish(proto::FrameKind kind, std::string_view payload) = 0;
  virtual std::size_t queued() const = 0;
  virtual bool closed() const = 0;
  /// Called once the queue falls below the low-water mark (one callback at a time).
  virtual void on_drain(std::function<void()> fn) = 0;
  /// Called once when the connection closes, whoever closed it.
  virtual void on_close(std::function<void()> fn) = 0;

  /// finish() with a RESPONSE carrying `r`.
  void reply(const Result<boost::json::value>& r);
  /// finish() with a RESPONSE whose result is `json`, JSON text (a record's writer made it).
  void reply_text(std::string_view json);
  /// finish() with an END frame carrying `r`.
  void end(const Result<boost::json::value>& r);
};

using ConnPtr = std::shared_ptr<Connection>;

/// Queue sizes for bulk producers: refill below kLowWater, stop at kHighWater.
inline constexpr std::size_t kLowWater = 256 << 10;
inline constexpr std::size_t kHighWater = 1 << 20;

}  // namespace sbx::daemon
