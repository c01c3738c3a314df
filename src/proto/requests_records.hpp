#pragma once
// Typed requests of the ops that read, stop and forget records: ps, show, stats, kill, rm. The
// CLI fills one and sends to_json(); the daemon's op reads it back with from_json(),
// which checks it. Byte strings (sessions) travel in the form of proto/bytes.hpp. The
// replies typed here are written by the daemon and read by the CLI.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/defaults.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

struct PsRequest {
  static constexpr std::string_view kOp = op::ps;
  std::optional<std::string> session;  ///< only this session
  std::vector<std::string>
      status;          ///< status words, "live", "ended" (parse_status_filter); empty: all
  bool brief = false;  ///< only the keys of the table (id, status, command, pid, times, exit)

  boost::json::object to_json() const;
  static Result<PsRequest> from_json(const boost::json::object& o);
  /// The statuses asked for (empty: every one).
  std::vector<ProcStatus> statuses() const;
};

struct ShowRequest {
  static constexpr std::string_view kOp = op::show;
  std::string id;
  bool toml = false;   ///< the record rendered as TOML (the CLI needs no TOML library)
  bool ports = false;  ///< with "ports", as ps records (costs a look at the tree in /proc)

  boost::json::object to_json() const;
  static Result<ShowRequest> from_json(const boost::json::object& o);
};

/// show with toml: the record rendered by the daemon.
struct ShowTomlReply {
  std::string toml;

  boost::json::value to_json() const;
  /// nullopt for a reply without the text.
  static std::optional<ShowTomlReply> from_json(const boost::json::value& v);
};

struct KillRequest {
  static constexpr std::string_view kOp = op::kill;
  std::vector<std::string> ids;
  bool all = false;                    ///< every live process (of `session`)
  std::optional<std::string> session;  ///< with all
  int signal = kStopSignal;
  Millis grace = kStopGrace;  ///< before SIGKILL, when stopping
  bool stop = true;           ///< signal, wait, SIGKILL after the grace; else deliver and return
  bool wait = true;           ///< with stop: answer once every one ended

  boost::json::object to_json() const;
  static Result<KillRequest> from_json(const boost::json::object& o);
};

/// kill: the records of the processes it was asked about, as they are now (objects of
/// common/record_json.hpp), and the ids of those that had ended before it.
struct KillReply {
  boost::json::array records;
  std::vector<std::string> already_ended;

  boost::json::value to_json() const;
  /// What is missing or not of its type reads as empty. Takes the reply: its records are
  /// moved, not copied (a kill --all of a thousand).
  static KillReply from_json(boost::json::value v);
};

struct RmRequest {
  static constexpr std::string_view kOp = op::rm;
  std::vector<std::string> ids;
  bool force = false;  ///< SIGKILL a live one first

  boost::json::object to_json() const;
  static Result<RmRequest> from_json(const boost::json::object& o);
};

/// rm and prune: the ids removed.
struct RmReply {
  std::vector<std::string> removed;

  boost::json::value to_json() const;
  /// What is missing or not a string reads as nothing removed.
  static RmReply from_json(const boost::json::value& v);
};

/// stats: what each tree uses now (daemon/run/usage.hpp), one sample; the CLI takes two
/// for the CPU share.
struct StatsRequest {
  static constexpr std::string_view kOp = op::stats;
  std::vector<std::string> ids;  ///< empty: every live process

  boost::json::object to_json() const;
  static Result<StatsRequest> from_json(const boost::json::object& o);
};

/// prune: forget every ended process.
using PruneRequest = BareRequest<op::prune>;

}  // namespace sbx::proto
