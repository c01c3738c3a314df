#include "proto/requests_ports.hpp"

#include <boost/json/array.hpp>

#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

json::object PortsRequest::to_json() const { return json::object{{"id", id}}; }

Result<PortsRequest> PortsRequest::from_json(const json::object& o) {
  PortsRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  return r;
}

json::object PortEntry::to_json() const {
  json::object o;
  o["port"] = port;
  o["proto"] = proto;
  o["address"] = address;
  o["pid"] = pid;
  o["command"] = bytes_to_json(command);
  return o;
}

std::optional<PortEntry> PortEntry::from_json(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return std::nullopt;
  auto port = get_opt_int(*o, "port");
  auto proto = get_opt_string(*o, "proto");
  if (!port || !proto) return std::nullopt;
  PortEntry e;
  e.port = static_cast<int>(*port);
  e.proto = std::move(*proto);
  e.address = get_opt_string(*o, "address").value_or("");
  e.pid = get_opt_int(*o, "pid").value_or(0);
  e.command = get_opt_bytes(*o, "command").value_or("");
  return e;
}

std::vector<PortEntry> port_entries_from_json(const json::value& v) {
  std::vector<PortEntry> out;
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) {
      if (auto p = PortEntry::from_json(e)) out.push_back(std::move(*p));
    }
  }
  return out;
}

}  // namespace sbx::proto
