#include "proto/requests_daemon.hpp"

#include <boost/json/array.hpp>

#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

json::value DaemonStatusReply::to_json() const {
  json::object o;
  o["pid"] = pid;
  o["uptime_ms"] = uptime_ms;
  o["started"] = started;
  o["socket"] = socket;
  o["state_dir"] = state_dir;
  o["version"] = version;
  o["protocol"] = protocol;
  json::object counts;
  counts["total"] = total;
  counts["running"] = running;
  o["processes"] = std::move(counts);
  o["proxy"] =
      json::object{{"port", proxy_port}, {"listening", proxy_listening}, {"exposed", exposed}};
  o["tree"] = tree;
  if (!cgroup.empty()) o["cgroup"] = cgroup;
  return o;
}

DaemonStatusReply DaemonStatusReply::from_json(const json::value& v) {
  DaemonStatusReply r;
  static const json::object none;
  const auto& o = v.is_object() ? v.get_object() : none;
  auto num = [&](const json::object& from, const char* k) {
    return get_opt_int(from, k).value_or(0);
  };
  auto str = [&](const char* k) { return get_opt_string(o, k).value_or("?"); };
  r.pid = num(o, "pid");
  r.uptime_ms = num(o, "uptime_ms");
  r.started = str("started");
  r.socket = str("socket");
  r.state_dir = str("state_dir");
  r.version = str("version");
  r.protocol = num(o, "protocol");
  const auto* counts = o.if_contains("processes");
  const auto& c = counts && counts->is_object() ? counts->get_object() : none;
  r.total = num(c, "total");
  r.running = num(c, "running");
  const auto* proxy = o.if_contains("proxy");
  const auto& p = proxy && proxy->is_object() ? proxy->get_object() : none;
  r.proxy_port = num(p, "port");
  r.proxy_listening = get_bool(p, "listening");
  r.exposed = num(p, "exposed");
  r.tree = str("tree");
  r.cgroup = get_opt_string(o, "cgroup").value_or("");
  return r;
}

json::value DaemonStopReply::to_json() const {
  return json::object{{"stopped", true}, {"ids", to_array(ids)}};
}

DaemonStopReply DaemonStopReply::from_json(const json::value& v) {
  DaemonStopReply r;
  r.ids = get_strings(v, "ids");
  return r;
}

json::value daemon_detach_reply() { return json::object{{"detached", true}}; }

}  // namespace sbx::proto
