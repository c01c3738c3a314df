#pragma once
// Where a follower of logs is in each stream, so that a new daemon goes on from there.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "proto/requests_waits.hpp"

namespace sbx::cli {

/// Where each stream's next byte lies, as a logical offset (bytes the stream ever held,
/// trims included): the daemon says where it starts (and where it skips to, when the cap
/// dropped bytes before they were sent), the DATA frames move it on. A new daemon is asked
/// to go on from there, so no byte is lost or printed twice.
struct Position {
  bool known = false;
  std::int64_t at[2] = {0, 0};  ///< stdout, stderr

  /// Calls dropped(k, bytes) when the daemon skips bytes of stream k that were never sent:
  /// the log cap cut them while this follower lagged (or while no daemon ran).
  template <class Dropped>
  void on_event(const boost::json::value& ev, Dropped&& dropped) {
    auto o = proto::read_offsets_event(ev, proto::kOffsetsEvent);
    if (!o) return;
    for (int k = 0; k < 2; ++k) {
      if (!o->at[k]) continue;
      // Of a jump, what --since/--until left out is no loss.
      std::int64_t filtered = 0;
      if (const auto* f = ev.as_object().if_contains(proto::kFilteredKey[k]); f && f->is_int64())
        filtered = f->get_int64();
      if (known && *o->at[k] - at[k] > filtered) dropped(k, *o->at[k] - at[k] - filtered);
      at[k] = *o->at[k];
    }
    known = true;
  }

  /// Until the first daemon said where it started, the request is sent again as it was
  /// (with its -n); from then on it goes on from the offsets.
  void resume(proto::LogsRequest& req) const {
    if (!known) return;
    req.tail.reset();
    req.from.at[0] = at[0];
    req.from.at[1] = at[1];
  }
};

/// The line a follower prints on stderr for a gap of `bytes` in `stream` of `id`.
inline std::string dropped_line(const std::string& id, const char* stream, std::int64_t bytes) {
  return "sbx: " + std::to_string(bytes) + " bytes of " + id + "'s " + stream +
         " were dropped by its log cap (--log-max) before they could be printed\n";
}

}  // namespace sbx::cli
