#include "common/record_json.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include "common/json_text.hpp"
#include "proto/bytes.hpp"

namespace sbx {
namespace json = boost::json;
using proto::append_bytes_json;

void append_record_json(std::string& out, const ProcessRecord& r) {
  auto key = [&out](std::string_view k) { append_json_key(out, k); };
  auto text = [&](std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out, v);
  };
  auto bytes = [&](std::string_view k, std::string_view v) {
    key(k);
    append_bytes_json(out, v);
  };
  auto number = [&](std::string_view k, std::int64_t v) {
    key(k);
    append_json_int(out, v);
  };
  out += '{';
  text("id", r.id);
  // What the user gave is bytes (proto/bytes.hpp); what sbx writes is text.
  bytes("command", r.command);
  key("argv");
  out += '[';
  for (std::size_t i = 0; i < r.argv.size(); ++i) {
    if (i) out += ',';
    append_bytes_json(out, r.argv[i]);
  }
  out += ']';
  bytes("cwd", r.cwd);
  key("env");
  out += '{';
  for (const auto& [k, v] : r.env) bytes(k, v);
  out += '}';
  bytes("session", r.session);
  if (r.pid) number("pid", *r.pid);
  text("status", status_name(r.status));
  if (r.start_time) text("start_time", format_rfc3339(*r.start_time));
  if (r.end_time) text("end_time", format_rfc3339(*r.end_time));
  if (r.exit_code) number("exit_code", *r.exit_code);
  if (r.signal) text("signal", *r.signal);
  if (r.error) bytes("error", *r.error);
  if (r.reason) text("reason", *r.reason);
  if (r.timeout_ms) number("timeout_ms", *r.timeout_ms);
  key("auto_cleanup");
  out += r.auto_cleanup ? "true" : "false";
  text("restart", r.restart);
  if (r.max_restarts) number("max_restarts", *r.max_restarts);
  number("restarts", r.restarts);
  number("log_max", r.log_max);
  if (r.tty) {
    key("tty");
    out += "true";
    text("tty_size", r.tty_size);
  }
  if (!r.definition.empty()) text("definition", r.definition);
  if (!r.user.empty()) bytes("user", r.user);
  text("tree", r.tree());
  if (!r.cgroup.empty()) bytes("cgroup", r.cgroup);
  if (r.memory_max) number("memory_max", *r.memory_max);
  if (r.pids_max) number("pids_max", *r.pids_max);
  if (r.cpu_max) number("cpu_max", *r.cpu_max);
  if (r.dropped_stdout) number("dropped_stdout", r.dropped_stdout);
  if (r.dropped_stderr) number("dropped_stderr", r.dropped_stderr);
  out += '}';
}

std::string record_json_text(const ProcessRecord& r) {
  std::string out;
  append_record_json(out, r);
  return out;
}

json::object record_to_json(const ProcessRecord& r, json::storage_ptr sp) {
  // Parsed from the one writer of a record's JSON: the text is valid by construction.
  return json::parse(record_json_text(r), std::move(sp)).as_object();
}

namespace {

std::optional<std::string> get_string(const json::value& v) {
  if (!v.is_string()) return std::nullopt;
  return std::string(v.get_string());
}

std::optional<std::int64_t> get_int(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;
}

template <class T>
void set_int(std::optional<T>& field, const json::value& v) {
  if (auto i = get_int(v)) field = static_cast<T>(*i);
}
template <class T>
void set_int(T& field, const json::value& v) {
  if (auto i = get_int(v)) field = static_cast<T>(*i);
}
void set_bytes(std::string& field, const json::value& v) {
  if (auto b = proto::bytes_from_json(v)) field = std::move(*b);
}

using Setter = void (*)(ProcessRecord&, const json::value&);
struct Key {
  std::string_view name;
  Setter set;
};

/// Every key a record may carry, sorted by name: one pass over the object, one binary
/// search a key (ps of thousands of records reads each of them).
constexpr Key kKeys[] = {
    {"argv",
     [](ProcessRecord& r, const json::value& v) {
       if (!v.is_array()) return;
       for (const auto& e : v.get_array()) {
         if (auto s = proto::bytes_from_json(e)) r.argv.push_back(std::move(*s));
       }
     }},
    {"auto_cleanup",
     [](ProcessRecord& r, const json::value& v) {
       if (v.is_bool()) r.auto_cleanup = v.get_bool();
     }},
    {"cgroup", [](ProcessRecord& r, const json::value& v) { set_bytes(r.cgroup, v); }},
    {"command", [](ProcessRecord& r, const json::value& v) { set_bytes(r.command, v); }},
    {"cpu_max", [](ProcessRecord& r, const json::value& v) { set_int(r.cpu_max, v); }},
    {"cwd", [](ProcessRecord& r, const json::value& v) { set_bytes(r.cwd, v); }},
    {"definition",
     [](ProcessRecord& r, const json::value& v) {
       if (auto s = get_string(v)) r.definition = std::move(*s);
     }},
    {"dropped_stderr", [](ProcessRecord& r, const json::value& v) { set_int(r.dropped_stderr, v); }},
    {"dropped_stdout", [](ProcessRecord& r, const json::value& v) { set_int(r.dropped_stdout, v); }},
    {"end_time",
     [](ProcessRecord& r, const json::value& v) {
       if (auto s = get_string(v)) r.end_time = parse_rfc3339(*s);
     }},
    {"env",
     [](ProcessRecord& r, const json::value& v) {
       if (!v.is_object()) return;
       for (const auto& [k, val] : v.get_object()) {
         if (auto s = proto::bytes_from_json(val)) r.env[std::string(k)] = std::move(*s);
       }
     }},
    {"error",
     [](ProcessRecord& r, const json::value& v) { r.error = proto::bytes_from_json(v); }},
    {"exit_code", [](ProcessRecord& r, const json::value& v) { set_int(r.exit_code, v); }},
    {"id", nullptr},  // read first, with status: a record is refused without them
    {"log_max", [](ProcessRecord& r, const json::value& v) { set_int(r.log_max, v); }},
    {"max_restarts", [](ProcessRecord& r, const json::value& v) { set_int(r.max_restarts, v); }},
    {"memory_max", [](ProcessRecord& r, const json::value& v) { set_int(r.memory_max, v); }},
    {"pid", [](ProcessRecord& r, const json::value& v) { set_int(r.pid, v); }},
    {"pid_start_ticks",
     [](ProcessRecord& r, const json::value& v) { set_int(r.pid_start_ticks, v); }},
    {"pids_max", [](ProcessRecord& r, const json::value& v) { set_int(r.pids_max, v); }},
    {"reason", [](ProcessRecord& r, const json::value& v) { r.reason = get_string(v); }},
    {"restart",
     [](ProcessRecord& r, const json::value& v) {
       if (auto s = get_string(v)) r.restart = std::move(*s);
     }},
    {"restarts", [](ProcessRecord& r, const json::value& v) { set_int(r.restarts, v); }},
    {"session", [](ProcessRecord& r, const json::value& v) { set_bytes(r.session, v); }},
    {"signal", [](ProcessRecord& r, const json::value& v) { r.signal = get_string(v); }},
    {"start_time",
     [](ProcessRecord& r, const json::value& v) {
       if (auto s = get_string(v)) r.start_time = parse_rfc3339(*s);
     }},
    {"status", nullptr},
    {"timeout_ms", [](ProcessRecord& r, const json::value& v) { r.timeout_ms = get_int(v); }},
    {"tty",
     [](ProcessRecord& r, const json::value& v) {
       if (v.is_bool()) r.tty = v.get_bool();
     }},
    {"tty_size",
     [](ProcessRecord& r, const json::value& v) {
       if (auto s = get_string(v)) r.tty_size = std::move(*s);
     }},
    {"user", [](ProcessRecord& r, const json::value& v) { set_bytes(r.user, v); }},
};

constexpr bool sorted_by_name() {
  for (std::size_t i = 1; i < std::size(kKeys); ++i) {
    if (!(kKeys[i - 1].name < kKeys[i].name)) return false;
  }
  return true;
}
static_assert(sorted_by_name(), "kKeys must stay sorted: it is binary-searched");

}  // namespace

Result<ProcessRecord> record_from_json(const json::value& v) {
  ProcessRecord r;
  if (auto st = record_from_json(v, r); !st) return st.error();
  return r;
}

Status record_from_json(const json::value& v, ProcessRecord& r) {
  if (!v.is_object()) return make_error(Errc::protocol, "record is not a JSON object");
  const auto& o = v.get_object();
  const auto* id = o.if_contains("id");
  const auto* status = o.if_contains("status");
  if (!id || !id->is_string() || !status || !status->is_string())
    return make_error(Errc::protocol, "record lacks 'id' or 'status'");
  std::string status_text(status->get_string());
  auto st = parse_status(status_text);
  if (!st) return make_error(Errc::protocol, "record has unknown status '" + status_text + "'");
  r.id = std::string(id->get_string());
  r.status = *st;
  // The defaults of keys a record may lack (the brief one of `ps`, an older daemon's).
  r.session = "default";
  r.restart = "no";
  r.log_max = kDefaultLogMax;
  bool tty_size_given = false;
  for (const auto& [key, value] : o) {
    std::string_view name(key.data(), key.size());
    const Key* k = std::lower_bound(std::begin(kKeys), std::end(kKeys), name,
                                    [](const Key& a, std::string_view b) { return a.name < b; });
    if (k == std::end(kKeys) || k->name != name || !k->set)
      continue;  // unknown keys: later versions
    k->set(r, value);
    tty_size_given = tty_size_given || name == "tty_size";
  }
  if (!r.tty)
    r.tty_size.clear();
  else if (!tty_size_given || r.tty_size.empty())
    r.tty_size = std::string(kDefaultTtySize);
  return ok_status();
}

}  // namespace sbx
