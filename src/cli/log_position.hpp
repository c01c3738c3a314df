#pragma once
// Where a follower of logs is in each stream, so that a new daemon goes on from there, and
// the events that `sbx logs` prints besides the output (a gap, the end).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/record.hpp"
#include "proto/bytes.hpp"
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

  /// What a WaitingCall sends for a follower of `req`: the request again, or once a daemon
  /// said where the streams were, the request going on from there. `req` and this outlive it.
  auto request_of(const proto::LogsRequest& req) const {
    return [&req, this](bool resumed, const proto::Deadline&) {
      auto r = req;
      if (resumed) resume(r);
      return r.to_json();
    };
  }
};

/// The line a follower prints on stderr for a gap of `bytes` in `stream` of `id`.
inline std::string dropped_line(const std::string& id, const char* stream, std::int64_t bytes) {
  return "sbx: " + std::to_string(bytes) + " bytes of " + id + "'s " + stream +
         " were dropped by its log cap (--log-max) before they could be printed\n";
}

/// The --json event of such a gap; `id` named (not empty) where the logs of several are merged.
inline boost::json::object dropped_event(std::string_view id, const char* stream,
                                         std::int64_t bytes) {
  boost::json::object ev{{"type", "dropped"}};
  if (!id.empty()) ev["id"] = id;
  ev["stream"] = stream;
  ev["bytes"] = bytes;
  ev["time"] = format_rfc3339(now_epoch_ms());
  return ev;
}

/// The --json event that ends the logs of `r`, once it ended; `id` as for dropped_event.
inline boost::json::object exit_event(std::string_view id, const ProcessRecord& r) {
  boost::json::object ev{{"type", "exit"}};
  if (!id.empty()) ev["id"] = id;
  ev["status"] = status_name(r.status);
  if (r.exit_code) ev["exit_code"] = *r.exit_code;
  if (r.signal) ev["signal"] = *r.signal;
  if (r.error) ev["error"] = proto::bytes_to_json(*r.error);
  return ev;
}

}  // namespace sbx::cli
