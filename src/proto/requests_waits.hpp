#pragma once
// Typed requests of the ops that read or wait on a running process: logs, wait, wait_log,
// wait_port, and the position events their streams carry. The CLI fills one and sends
// to_json(); the daemon's op reads it back with from_json(), which checks it. A request
// that waits carries a Deadline; a client that lost its daemon sends it again to the next
// one with the time left and where to resume. Byte strings travel as proto/bytes.hpp says.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

/// The hosts a wait_port probes when none is named.
inline constexpr std::string_view kDefaultProbeHosts[] = {"127.0.0.1", "::1"};

/// The deadline of a waiting request, over every daemon it was sent to.
struct Deadline {
  std::optional<Millis> timeout;  ///< time left; none: wait forever
  std::optional<Millis> waited;   ///< waited already with lost daemons (for the message)

  /// What the timeout message names: all the time waited.
  Millis asked() const { return timeout.value_or(Millis(0)) + waited.value_or(Millis(0)); }
};

/// A logical offset per stream (bytes the stream ever held, trims included): [0] stdout,
/// [1] stderr; none when not known.
struct StreamOffsets {
  std::optional<std::int64_t> at[2];
};

struct LogsRequest {
  static constexpr std::string_view kOp = op::logs;
  std::string id;
  bool want_stdout = true;
  bool want_stderr = true;
  std::optional<std::int64_t> tail;  ///< the last N lines of each stream
  bool follow = false;
  StreamOffsets from;  ///< a follower resuming with a new daemon: go on from here
  bool timed = false;  ///< CHUNK frames (bytes with their write time) instead of DATA
  std::optional<std::int64_t> since_ns;  ///< only chunks written at or after (ns since the epoch)
  std::optional<std::int64_t> until_ns;  ///< only chunks written at or before

  boost::json::object to_json() const;
  static Result<LogsRequest> from_json(const boost::json::object& o);
};

struct WaitRequest {
  static constexpr std::string_view kOp = op::wait;
  std::string id;
  Deadline deadline;

  boost::json::object to_json() const;
  static Result<WaitRequest> from_json(const boost::json::object& o);
};

struct WaitLogRequest {
  static constexpr std::string_view kOp = op::wait_log;
  std::string id;
  std::string pattern;  ///< bytes
  bool regex = false;
  std::string stream = "both";  ///< both, stdout or stderr
  Deadline deadline;
  StreamOffsets from;  ///< where a resumed wait goes on (the starts of unfinished lines)

  boost::json::object to_json() const;
  static Result<WaitLogRequest> from_json(const boost::json::object& o);
};

struct WaitPortRequest {
  static constexpr std::string_view kOp = op::wait_port;
  std::string id;
  int port = 0;  ///< 0: the first TCP port the tree listens on (the answer says which)
  /// Ready as soon as anything accepts; otherwise only when the tree serves the port.
  bool any_owner = false;
  std::vector<std::string> hosts;  ///< IP addresses; empty: kDefaultProbeHosts
  std::optional<std::string> http_path;
  int status_lo = 200;
  int status_hi = 399;
  std::optional<Millis> interval;  ///< between probes; none: the daemon's default
  Deadline deadline;

  boost::json::object to_json() const;
  static Result<WaitPortRequest> from_json(const boost::json::object& o);
};

/// The answer of a wait_port: the port that is ready, the host that answered there and,
/// with HTTP, the status it gave.
struct WaitPortReply {
  std::int64_t port = 0;
  std::string host;
  std::int64_t status = 0;  ///< 0: not HTTP

  boost::json::value to_json() const;
  /// nullopt for a reply without a port.
  static std::optional<WaitPortReply> from_json(const boost::json::value& v);
};

/// The answer of a wait_log: the line that matched (bytes), the whole match and its groups.
struct WaitLogReply {
  std::string line;
  std::vector<std::string> match;
  std::string stream;  ///< stdout or stderr

  boost::json::value to_json() const;
  /// nullopt for a reply without a line.
  static std::optional<WaitLogReply> from_json(const boost::json::value& v);
};

/// The EVENT a follower of logs gets: where each stream's next byte lies.
inline constexpr std::string_view kOffsetsEvent = "offsets";
/// In an offsets event of logs, with a stream's jump: how many of the bytes skipped were
/// left out by --since/--until (the rest were cut by the log cap).
inline constexpr std::string_view kFilteredKey[2] = {"filtered_stdout", "filtered_stderr"};
/// The EVENT a follower of logs gets once, when it has been sent all the process had
/// written so far: from then on its chunks come as they are written.
inline constexpr std::string_view kCaughtUpEvent = "caught_up";
/// The EVENT a wait_log sends: where the line it has not finished scanning starts.
inline constexpr std::string_view kScannedEvent = "scanned";
boost::json::object offsets_event(std::string_view type, const StreamOffsets& at);
/// The offsets of an event of this type; nullopt for any other event.
std::optional<StreamOffsets> read_offsets_event(const boost::json::value& ev,
                                                std::string_view type);

}  // namespace sbx::proto
