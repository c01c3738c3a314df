#define TOML_HEADER_ONLY 1  // see meson.build
// toml++ 3.3 asserts on some malformed input ("[[[") where it should report an error;
// a corrupt record must never abort the daemon.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>

#include <sstream>

#include "common/command_line.hpp"
#include "common/record.hpp"
#include "common/utf8.hpp"
#include "proto/bytes.hpp"

namespace sbx {
namespace {

toml::date_time to_toml_time(EpochMs t) {
  using namespace std::chrono;
  auto d = floor<days>(sys_time<milliseconds>(milliseconds(t)));
  year_month_day ymd{d};
  EpochMs in_day = t - duration_cast<milliseconds>(d.time_since_epoch()).count();
  toml::date date{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day())};
  toml::time time{
      static_cast<unsigned>(in_day / 3'600'000), static_cast<unsigned>(in_day / 60'000 % 60),
      static_cast<unsigned>(in_day / 1000 % 60), static_cast<unsigned>(in_day % 1000 * 1'000'000)};
  return toml::date_time{date, time, toml::time_offset{}};
}

std::optional<EpochMs> from_toml_time(const toml::node* n) {
  using namespace std::chrono;
  if (!n) return std::nullopt;
  if (auto s = n->value<std::string>()) return parse_rfc3339(*s);
  auto dt = n->value<toml::date_time>();
  if (!dt) return std::nullopt;
  year_month_day ymd{year(dt->date.year), month(dt->date.month), day(dt->date.day)};
  if (!ymd.ok()) return std::nullopt;
  EpochMs ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  ms += ((dt->time.hour * 60LL + dt->time.minute) * 60 + dt->time.second) * 1000 +
        dt->time.nanosecond / 1'000'000;
  if (dt->offset) ms -= dt->offset->minutes * 60'000LL;
  return ms;
}

/// An integer key; a float or an out-of-range value is no integer (toml++'s value<> would
/// convert a float, undefined for 1e300).
std::optional<std::int64_t> int_at(const toml::table& t, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  return n->value_exact<std::int64_t>();
}

}  // namespace

namespace {
/// Plain "..." strings, with every non-ASCII character escaped (\uXXXX): a record is pure
/// ASCII, so record_from_toml can refuse anything else before toml++ sees it.
constexpr auto kFormat =
    toml::toml_formatter::default_flags & ~toml::format_flags::allow_literal_strings &
    ~toml::format_flags::allow_multi_line_strings & ~toml::format_flags::allow_unicode_strings;

std::string format_one(std::string_view key, std::string_view value) {
  toml::table one;
  one.insert(key, std::string(value));
  std::ostringstream out;
  out << toml::toml_formatter(one, kFormat);
  return out.str();
}

/// "KEY = " as toml++ writes it (quoted when it must be).
std::string key_prefix(std::string_view key) {
  std::string line = format_one(key, "");
  return line.substr(0, line.size() - 2);
}

/// A byte string for reading, in the TOML of `show`: a TOML string whose bytes that are not
/// UTF-8 appear as \xNN, unambiguous next to the escaped backslash (\\) of a literal one.
std::string display_string(std::string_view bytes) {
  std::string out = "\"";
  while (!bytes.empty()) {
    std::size_t n = utf8_valid_prefix(bytes);
    if (n > 0) {
      std::string quoted = format_one("k", bytes.substr(0, n)).substr(4);  // k = "..."
      out.append(quoted, 1, quoted.size() - 2);
    }
    if (n < bytes.size()) out += escape_non_utf8(bytes.substr(n++, 1));
    bytes.remove_prefix(n);
  }
  return out + "\"";
}

toml::table tagged(std::string_view bytes) {
  toml::table t;
  t.insert(proto::kBytesKey, proto::base64_encode(bytes));
  t.is_inline(true);
  return t;
}

/// A string, or the tagged form of bytes that are not UTF-8.
std::optional<std::string> bytes_at(const toml::node* n) {
  if (!n) return std::nullopt;
  if (auto s = n->value<std::string>()) return *s;
  const toml::table* t = n->as_table();
  if (!t || t->size() != 1) return std::nullopt;
  auto b = (*t)[proto::kBytesKey].value<std::string>();
  if (!b) return std::nullopt;
  return proto::base64_decode(*b);
}
}  // namespace

std::string record_to_toml(const ProcessRecord& r, TomlView view) {
  // Keys in a fixed, readable order (a toml::table would sort them): each is formatted
  // by toml++ as a one-key table, so quoting and escaping stay toml++'s.
  std::ostringstream out;
  auto put = [&](std::string_view key, auto&& value) {
    toml::table one;
    one.insert(key, std::forward<decltype(value)>(value));
    out << toml::toml_formatter(one, kFormat) << '\n';
  };
  // What the user gave is bytes (proto/bytes.hpp); what sbx writes is text.
  bool display = view == TomlView::display;
  auto put_bytes = [&](std::string_view key, std::string_view bytes) {
    if (is_utf8(bytes))
      put(key, std::string(bytes));
    else if (display)
      out << key_prefix(key) << display_string(bytes) << '\n';
    else
      put(key, tagged(bytes));
  };
  put("schema_version", kRecordSchemaVersion);
  put("id", r.id);
  put("status", status_name(r.status));
  put_bytes("command", r.command);
  bool argv_text =
      std::all_of(r.argv.begin(), r.argv.end(), [](const std::string& a) { return is_utf8(a); });
  if (display && !argv_text) {
    out << key_prefix("argv") << "[ ";
    for (std::size_t i = 0; i < r.argv.size(); ++i)
      out << (i ? ", " : "") << display_string(r.argv[i]);
    out << " ]\n";
  } else {
    toml::array argv;
    for (const auto& a : r.argv) {
      if (is_utf8(a))
        argv.push_back(a);
      else
        argv.push_back(tagged(a));
    }
    put("argv", std::move(argv));
  }
  put_bytes("cwd", r.cwd);
  put_bytes("session", r.session);
  if (r.pid) put("pid", *r.pid);
  if (r.pid_start_ticks) put("pid_start_ticks", static_cast<std::int64_t>(*r.pid_start_ticks));
  if (!r.run_token.empty()) put("run_token", r.run_token);
  if (r.waiter_pid) put("waiter_pid", *r.waiter_pid);
  if (r.waiter_start_ticks)
    put("waiter_start_ticks", static_cast<std::int64_t>(*r.waiter_start_ticks));
  if (r.relay_pid) put("relay_pid", *r.relay_pid);
  if (r.relay_start_ticks)
    put("relay_start_ticks", static_cast<std::int64_t>(*r.relay_start_ticks));
  if (!r.boot_id.empty()) put("boot_id", r.boot_id);
  if (r.start_time) put("start_time", to_toml_time(*r.start_time));
  if (r.end_time) put("end_time", to_toml_time(*r.end_time));
  if (r.exit_code) put("exit_code", *r.exit_code);
  if (r.signal) put("signal", *r.signal);
  if (r.error) put_bytes("error", *r.error);
  if (r.reason) put("reason", *r.reason);
  if (r.timeout_ms) put("timeout_ms", *r.timeout_ms);
  put("auto_cleanup", r.auto_cleanup);
  put("restart", r.restart);
  if (r.max_restarts) put("max_restarts", *r.max_restarts);
  put("restarts", r.restarts);
  put("log_max", r.log_max);
  if (!r.definition.empty()) put("definition", r.definition);
  if (!r.user.empty()) put_bytes("user", r.user);
  if (r.dropped_stdout) put("dropped_stdout", r.dropped_stdout);
  if (r.dropped_stderr) put("dropped_stderr", r.dropped_stderr);
  if (r.collapsed_stdout) put("collapsed_stdout", r.collapsed_stdout);
  if (r.collapsed_stderr) put("collapsed_stderr", r.collapsed_stderr);
  if (r.tty) {
    put("tty", true);
    put("tty_size", r.tty_size);
  }
  put("tree", r.tree());  // derived from cgroup: never read back
  if (!r.cgroup.empty()) put_bytes("cgroup", r.cgroup);
  if (r.memory_max) put("memory_max", *r.memory_max);
  if (r.pids_max) put("pids_max", *r.pids_max);
  if (r.cpu_max) put("cpu_max", *r.cpu_max);
  if (display && r.env.empty()) return out.str();  // no empty [env] table on screen
  out << "\n[env]\n";
  bool env_text =
      std::all_of(r.env.begin(), r.env.end(), [](const auto& kv) { return is_utf8(kv.second); });
  if (display && !env_text) {
    for (const auto& [k, v] : r.env) put_bytes(k, v);
    return out.str();
  }
  toml::table env;
  for (const auto& [k, v] : r.env) {
    if (is_utf8(v))
      env.insert(k, v);
    else
      env.insert(k, tagged(v));
  }
  if (!env.empty()) {
    out << toml::toml_formatter(env, kFormat) << '\n';
  }
  return out.str();
}

Result<ProcessRecord> record_from_toml(std::string_view text) {
  // toml++ 3.3 reaches __builtin_unreachable on some non-ASCII input outside strings
  // (upstream #190); sbxd writes pure ASCII, so any other byte means the file is not ours.
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
      return make_error(Errc::failed, "not a record written by sbxd: byte " + std::to_string(c) +
                                          " at offset " + std::to_string(i));
    }
  }
  toml::table t;
  try {
    t = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "not valid TOML: " << e.description() << " (line " << e.source().begin.line << ")";
    return make_error(Errc::failed, msg.str());
  }
  ProcessRecord r;
  auto id = t["id"].value<std::string>();
  auto status = t["status"].value<std::string>();
  if (!id || !status) return make_error(Errc::failed, "record lacks 'id' or 'status'");
  auto st = parse_status(*status);
  if (!st) return make_error(Errc::failed, "record has unknown status '" + *status + "'");
  r.id = *id;
  r.status = *st;
  r.command = bytes_at(t.get("command")).value_or(std::string());
  if (auto* a = t["argv"].as_array()) {
    for (const auto& e : *a) {
      if (auto s = bytes_at(&e)) r.argv.push_back(std::move(*s));
    }
  }
  r.cwd = bytes_at(t.get("cwd")).value_or(std::string());
  r.session = bytes_at(t.get("session")).value_or(std::string("default"));
  if (auto* e = t["env"].as_table()) {
    for (const auto& [k, v] : *e) {  // only variable names: they are what sbx writes
      if (auto s = bytes_at(&v); s && is_env_name(k.str()))
        r.env[std::string(k.str())] = std::move(*s);
    }
  }
  if (auto v = int_at(t, "pid")) r.pid = static_cast<int>(*v);
  if (auto v = int_at(t, "pid_start_ticks")) r.pid_start_ticks = static_cast<std::uint64_t>(*v);
  r.run_token = t["run_token"].value_or(std::string());
  if (auto v = int_at(t, "waiter_pid")) r.waiter_pid = static_cast<int>(*v);
  if (auto v = int_at(t, "waiter_start_ticks"))
    r.waiter_start_ticks = static_cast<std::uint64_t>(*v);
  if (auto v = int_at(t, "relay_pid")) r.relay_pid = static_cast<int>(*v);
  if (auto v = int_at(t, "relay_start_ticks")) r.relay_start_ticks = static_cast<std::uint64_t>(*v);
  r.boot_id = t["boot_id"].value_or(std::string());
  r.start_time = from_toml_time(t.get("start_time"));
  r.end_time = from_toml_time(t.get("end_time"));
  if (auto v = int_at(t, "exit_code")) r.exit_code = static_cast<int>(*v);
  if (auto v = t["signal"].value<std::string>()) r.signal = *v;
  if (auto v = bytes_at(t.get("error"))) r.error = std::move(*v);
  if (auto v = t["reason"].value<std::string>()) r.reason = *v;
  if (auto v = int_at(t, "timeout_ms")) r.timeout_ms = *v;
  if (auto v = int_at(t, "max_restarts")) r.max_restarts = static_cast<int>(*v);
  r.auto_cleanup = t["auto_cleanup"].value_or(false);
  r.restart = t["restart"].value_or(std::string("no"));
  r.restarts = static_cast<int>(int_at(t, "restarts").value_or(0));
  r.log_max = int_at(t, "log_max").value_or(kDefaultLogMax);
  r.definition = t["definition"].value_or(std::string());
  r.user = bytes_at(t.get("user")).value_or(std::string());
  r.dropped_stdout = int_at(t, "dropped_stdout").value_or(0);
  r.dropped_stderr = int_at(t, "dropped_stderr").value_or(0);
  r.collapsed_stdout = int_at(t, "collapsed_stdout").value_or(0);
  r.collapsed_stderr = int_at(t, "collapsed_stderr").value_or(0);
  r.tty = t["tty"].value_or(false);
  if (r.tty) r.tty_size = t["tty_size"].value_or(std::string(kDefaultTtySize));
  r.cgroup = bytes_at(t.get("cgroup")).value_or(std::string());
  r.memory_max = int_at(t, "memory_max");
  r.pids_max = int_at(t, "pids_max");
  r.cpu_max = int_at(t, "cpu_max");
  return r;
}

}  // namespace sbx
