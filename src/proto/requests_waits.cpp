#include "proto/requests_waits.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

#include "common/defaults.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

namespace {

void put_deadline(json::object& o, const Deadline& d) {
  if (d.timeout) o["timeout_ms"] = d.timeout->count();
  if (d.waited) o["waited_ms"] = d.waited->count();
}

Deadline get_deadline(const json::object& o) {
  Deadline d;
  if (auto t = get_opt_int(o, "timeout_ms")) d.timeout = Millis(*t);
  if (auto w = get_opt_int(o, "waited_ms")) d.waited = Millis(*w);
  return d;
}

void put_from(json::object& o, const StreamOffsets& f) {
  if (f.at[0]) o["from_stdout"] = *f.at[0];
  if (f.at[1]) o["from_stderr"] = *f.at[1];
}

StreamOffsets get_from(const json::object& o) {
  StreamOffsets f;
  f.at[0] = get_opt_int(o, "from_stdout");
  f.at[1] = get_opt_int(o, "from_stderr");
  return f;
}

}  // namespace

json::object LogsRequest::to_json() const {
  json::object o;
  o["id"] = id;
  o["stdout"] = want_stdout;
  o["stderr"] = want_stderr;
  if (tail) o["tail"] = *tail;
  if (follow) o["follow"] = true;
  put_from(o, from);
  if (timed) o["timed"] = true;
  if (since_ns) o["since_ns"] = *since_ns;
  if (until_ns) o["until_ns"] = *until_ns;
  return o;
}

Result<LogsRequest> LogsRequest::from_json(const json::object& o) {
  LogsRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  r.want_stdout = get_bool(o, "stdout", true);
  r.want_stderr = get_bool(o, "stderr", true);
  r.tail = get_opt_int(o, "tail");
  r.follow = get_bool(o, "follow");
  r.from = get_from(o);
  r.timed = get_bool(o, "timed");
  r.since_ns = get_opt_int(o, "since_ns");
  r.until_ns = get_opt_int(o, "until_ns");
  return r;
}

json::object WaitRequest::to_json() const {
  json::object o;
  o["id"] = id;
  put_deadline(o, deadline);
  return o;
}

Result<WaitRequest> WaitRequest::from_json(const json::object& o) {
  WaitRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  r.deadline = get_deadline(o);
  return r;
}

json::object WaitLogRequest::to_json() const {
  json::object o;
  o["id"] = id;
  o["pattern"] = bytes_to_json(pattern);
  o["regex"] = regex;
  if (stream != "both") o["stream"] = stream;
  put_deadline(o, deadline);
  put_from(o, from);
  return o;
}

Result<WaitLogRequest> WaitLogRequest::from_json(const json::object& o) {
  WaitLogRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  auto pattern = get_opt_bytes(o, "pattern");
  if (!pattern) return make_error(Errc::protocol, "request lacks string 'pattern'");
  r.pattern = std::move(*pattern);
  r.regex = get_bool(o, "regex");
  r.stream = get_opt_string(o, "stream").value_or("both");
  if (r.stream != "both") {
    if (auto st = check_stream(r.stream); !st) return st.error();
  }
  r.deadline = get_deadline(o);
  r.from = get_from(o);
  return r;
}

json::object WaitPortRequest::to_json() const {
  json::object o;
  o["id"] = id;
  o["port"] = port;
  if (any_owner) o["any_owner"] = true;
  o["hosts"] = to_array(hosts);
  if (http_path) o["http_path"] = *http_path;
  if (status_lo != 200 || status_hi != 399) {
    o["status_lo"] = status_lo;
    o["status_hi"] = status_hi;
  }
  if (interval) o["interval_ms"] = interval->count();
  put_deadline(o, deadline);
  return o;
}

Result<WaitPortRequest> WaitPortRequest::from_json(const json::object& o) {
  WaitPortRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  auto port = get_opt_int(o, "port");
  if (!port) return make_error(Errc::protocol, "wait_port needs 'port' (0: any)");
  if (*port != 0) {
    if (auto st = check_port(*port); !st) return st.error();
  }
  r.port = static_cast<int>(*port);
  if (const auto* a = o.if_contains("any_owner"); a && a->is_bool()) r.any_owner = a->get_bool();
  if (r.any_owner && r.port == 0)
    return make_error(Errc::usage,
                      "--any-owner goes with a PORT: without one, the port is the tree's");
  if (auto* hosts = o.if_contains("hosts"); hosts && hosts->is_array()) {
    for (const auto& h : hosts->get_array()) {
      if (h.is_string()) r.hosts.emplace_back(h.get_string());
    }
  }
  if (r.hosts.empty()) r.hosts.assign(std::begin(kDefaultProbeHosts), std::end(kDefaultProbeHosts));
  r.http_path = get_opt_string(o, "http_path");
  r.status_lo = static_cast<int>(get_opt_int(o, "status_lo").value_or(200));
  r.status_hi = static_cast<int>(get_opt_int(o, "status_hi").value_or(399));
  if (auto iv = get_opt_int(o, "interval_ms")) r.interval = Millis(std::max<std::int64_t>(1, *iv));
  r.deadline = get_deadline(o);
  return r;
}

json::value WaitPortReply::to_json() const {
  json::object o;
  o["port"] = port;
  o["host"] = host;
  if (status) o["status"] = status;
  return o;
}

std::optional<WaitPortReply> WaitPortReply::from_json(const json::value& v) {
  const auto* o = v.if_object();
  const auto* port = o ? o->if_contains("port") : nullptr;
  if (!port || !port->is_int64()) return std::nullopt;
  WaitPortReply r;
  r.port = port->get_int64();
  r.host = get_opt_string(*o, "host").value_or("");
  r.status = get_opt_int(*o, "status").value_or(0);
  return r;
}

json::value WaitLogReply::to_json() const {
  json::object o;
  o["line"] = bytes_to_json(line);
  json::array groups;
  for (const auto& g : match) groups.push_back(bytes_to_json(g));
  o["match"] = std::move(groups);
  o["stream"] = stream;
  return o;
}

std::optional<WaitLogReply> WaitLogReply::from_json(const json::value& v) {
  const auto* o = v.if_object();
  auto line = o ? get_opt_bytes(*o, "line") : std::nullopt;
  if (!line) return std::nullopt;
  WaitLogReply r;
  r.line = std::move(*line);
  if (const auto* m = o->if_contains("match"); m && m->is_array()) {
    for (const auto& g : m->get_array()) r.match.push_back(bytes_from_json(g).value_or(""));
  }
  r.stream = get_opt_string(*o, "stream").value_or("");
  return r;
}

json::object offsets_event(std::string_view type, const StreamOffsets& at) {
  json::object ev;
  ev["type"] = type;
  if (at.at[0]) ev["stdout"] = *at.at[0];
  if (at.at[1]) ev["stderr"] = *at.at[1];
  return ev;
}

std::optional<StreamOffsets> read_offsets_event(const json::value& ev, std::string_view type) {
  const auto* o = ev.if_object();
  if (!o || get_opt_string(*o, "type") != std::string(type)) return std::nullopt;
  StreamOffsets at;
  at.at[0] = get_opt_int(*o, "stdout");
  at.at[1] = get_opt_int(*o, "stderr");
  return at;
}

}  // namespace sbx::proto
