#pragma once
// The preview proxy's limits against clients that are slow, hostile or never read, and
// upstreams that stall: memory per connection is bounded, every wait has a deadline.

#include <cstddef>
#include <cstdint>

#include "common/duration.hpp"

namespace sbx::daemon::proxy {

/// A request or response head (request line and headers) over this is refused: 431.
inline constexpr std::uint32_t kHeadLimit = 64 << 10;
/// The whole request head must arrive within this (a slow-headers client gets 408).
inline constexpr Millis kHeadTimeout{10'000};
/// An upstream that accepts nothing within this is unreachable (502).
inline constexpr Millis kConnectTimeout{5'000};
/// A body or a response that moves no byte for this long (either side) ends the connection.
inline constexpr Millis kIdleTimeout{60'000};
/// Bodies are relayed through one buffer of this size per direction, whatever their length.
inline constexpr std::size_t kBodyChunk = 64 << 10;
/// Client connections open at once; more are closed as they come.
inline constexpr std::size_t kMaxSessions = 512;

}  // namespace sbx::daemon::proxy
