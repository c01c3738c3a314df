#pragma once
// The ports request: which TCP and UDP ports a process's tree listens on. Its reply is a
// list of PortEntry, the same objects `ps` records carry under "ports".

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

struct PortsRequest {
  static constexpr std::string_view kOp = op::ports;
  std::string id;

  boost::json::object to_json() const;
  static Result<PortsRequest> from_json(const boost::json::object& o);
};

/// One listening socket of a tree: {"port", "proto", "address", "pid", "command"}.
struct PortEntry {
  int port = 0;
  std::string proto;    ///< "tcp" or "udp"
  std::string address;  ///< numeric, "0.0.0.0" / "::" for every address
  std::int64_t pid = 0;
  std::string command;  ///< bytes

  boost::json::object to_json() const;
  /// nullopt for what is not an entry.
  static std::optional<PortEntry> from_json(const boost::json::value& v);
};

std::vector<PortEntry> port_entries_from_json(const boost::json::value& v);

}  // namespace sbx::proto
