#include "common/record_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include "proto/bytes.hpp"

namespace sbx {
namespace json = boost::json;
using proto::bytes_to_json;
using proto::get_opt_bytes;

json::object record_to_json(const ProcessRecord& r, json::storage_ptr sp) {
  json::object o(24, sp);  // room for every key: no rehash while it fills
  o["id"] = r.id;
  // What the user gave is bytes (proto/bytes.hpp); what sbx writes is text.
  o["command"] = bytes_to_json(r.command, sp);
  json::array argv(sp);
  argv.reserve(r.argv.size());
  for (const auto& a : r.argv) argv.push_back(bytes_to_json(a, sp));
  o["argv"] = std::move(argv);
  o["cwd"] = bytes_to_json(r.cwd, sp);
  json::object env(sp);
  for (const auto& [k, v] : r.env) env[k] = bytes_to_json(v, sp);
  o["env"] = std::move(env);
  o["session"] = bytes_to_json(r.session, sp);
  if (r.pid) o["pid"] = *r.pid;
  o["status"] = status_name(r.status);
  if (r.start_time) o["start_time"] = format_rfc3339(*r.start_time);
  if (r.end_time) o["end_time"] = format_rfc3339(*r.end_time);
  if (r.exit_code) o["exit_code"] = *r.exit_code;
  if (r.signal) o["signal"] = *r.signal;
  if (r.error) o["error"] = bytes_to_json(*r.error);
  if (r.reason) o["reason"] = *r.reason;
  if (r.timeout_ms) o["timeout_ms"] = *r.timeout_ms;
  o["auto_cleanup"] = r.auto_cleanup;
  o["restart"] = r.restart;
  if (r.max_restarts) o["max_restarts"] = *r.max_restarts;
  o["restarts"] = r.restarts;
  o["log_max"] = r.log_max;
  if (r.tty) {
    o["tty"] = true;
    o["tty_size"] = r.tty_size;
  }
  if (!r.definition.empty()) o["definition"] = r.definition;
  if (!r.user.empty()) o["user"] = bytes_to_json(r.user);
  o["tree"] = r.tree();
  if (!r.cgroup.empty()) o["cgroup"] = bytes_to_json(r.cgroup);
  if (r.memory_max) o["memory_max"] = *r.memory_max;
  if (r.pids_max) o["pids_max"] = *r.pids_max;
  if (r.cpu_max) o["cpu_max"] = *r.cpu_max;
  if (r.dropped_stdout) o["dropped_stdout"] = r.dropped_stdout;
  if (r.dropped_stderr) o["dropped_stderr"] = r.dropped_stderr;
  return o;
}

namespace {

std::optional<std::string> get_string(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::int64_t> get_int(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

}  // namespace

Result<ProcessRecord> record_from_json(const json::value& v) {
  if (!v.is_object()) return make_error(Errc::protocol, "record is not a JSON object");
  const auto& o = v.get_object();
  ProcessRecord r;
  auto id = get_string(o, "id");
  auto status = get_string(o, "status");
  if (!id || !status) return make_error(Errc::protocol, "record lacks 'id' or 'status'");
  auto st = parse_status(*status);
  if (!st) return make_error(Errc::protocol, "record has unknown status '" + *status + "'");
  r.id = *id;
  r.status = *st;
  r.command = get_opt_bytes(o, "command").value_or("");
  if (auto* a = o.if_contains("argv"); a && a->is_array()) {
    for (const auto& e : a->get_array()) {
      if (auto s = proto::bytes_from_json(e)) r.argv.push_back(std::move(*s));
    }
  }
  r.cwd = get_opt_bytes(o, "cwd").value_or("");
  r.session = get_opt_bytes(o, "session").value_or("default");
  if (auto* e = o.if_contains("env"); e && e->is_object()) {
    for (const auto& [k, val] : e->get_object()) {
      if (auto s = proto::bytes_from_json(val)) r.env[std::string(k)] = std::move(*s);
    }
  }
  if (auto p = get_int(o, "pid")) r.pid = static_cast<int>(*p);
  if (auto p = get_int(o, "pid_start_ticks")) r.pid_start_ticks = static_cast<std::uint64_t>(*p);
  if (auto s = get_string(o, "start_time")) r.start_time = parse_rfc3339(*s);
  if (auto s = get_string(o, "end_time")) r.end_time = parse_rfc3339(*s);
  if (auto c = get_int(o, "exit_code")) r.exit_code = static_cast<int>(*c);
  r.signal = get_string(o, "signal");
  r.error = get_opt_bytes(o, "error");
  r.reason = get_string(o, "reason");
  r.timeout_ms = get_int(o, "timeout_ms");
  if (auto m = get_int(o, "max_restarts")) r.max_restarts = static_cast<int>(*m);
  if (auto* b = o.if_contains("auto_cleanup"); b && b->is_bool()) r.auto_cleanup = b->get_bool();
  r.restart = get_string(o, "restart").value_or("no");
  r.restarts = static_cast<int>(get_int(o, "restarts").value_or(0));
  r.log_max = get_int(o, "log_max").value_or(kDefaultLogMax);
  if (auto* b = o.if_contains("tty"); b && b->is_bool()) r.tty = b->get_bool();
  if (r.tty) r.tty_size = get_string(o, "tty_size").value_or(std::string(kDefaultTtySize));
  r.definition = get_string(o, "definition").value_or("");
  r.user = get_opt_bytes(o, "user").value_or("");
  r.dropped_stdout = get_int(o, "dropped_stdout").value_or(0);
  r.dropped_stderr = get_int(o, "dropped_stderr").value_or(0);
  r.cgroup = get_opt_bytes(o, "cgroup").value_or("");
  r.memory_max = get_int(o, "memory_max");
  r.pids_max = get_int(o, "pids_max");
  r.cpu_max = get_int(o, "cpu_max");
  return r;
}

}  // namespace sbx
