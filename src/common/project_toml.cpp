// sbx.toml: the TOML form of a project file (man/sbx.toml.5).
#define TOML_HEADER_ONLY 1  // see meson.build
// toml++ 3.3 asserts on some malformed input where it should report an error (see
// record_toml.cpp): a bad project file must end in a message, never an abort.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>
#include <sstream>

#include "common/byte_size.hpp"
#include "common/command_line.hpp"
#include "common/ids.hpp"
#include "common/line_matcher.hpp"
#include "common/project.hpp"
#include "common/toml_text.hpp"
#include "common/utf8.hpp"

namespace sbx {
namespace {

constexpr std::string_view kProcessKeys[] = {"command", "cwd",     "env",          "env_file",
                                             "restart", "timeout", "max_restarts", "log_max",
                                             "tty",     "user",    "ready",        "depends_on"};

std::string join_keys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (auto k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

/// A string of the document, as written (toml_text.hpp).
std::optional<std::string> text_of(const toml::node& n) {
  auto s = n.value_exact<std::string>();
  if (!s) return std::nullopt;
  return toml_unshift(*s);
}

/// Builds the errors of one file: "FILE:LINE: message".
class Reader {
 public:
  Reader(const std::string& file, const std::string& dir) : file_(file), dir_(dir) {}

  Error at(const toml::node& n, const std::string& message) const {
    return at_line(static_cast<int>(n.source().begin.line), message);
  }
  Error at_line(int line, const std::string& message) const {
    return file_error(file_, line, message);
  }

  /// Every key of `t` must be one of `allowed`.
  Status known_keys(const toml::table& t, const std::string& where,
                    std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      return at(v, "unknown key '" + std::string(k.str()) + "' in " + where +
                       " (known: " + join_keys(allowed) + ")");
    }
    return ok_status();
  }

  Result<std::string> string_of(const toml::node& n, const std::string& key) const {
    if (auto s = text_of(n)) return *s;
    return at(n, key + " must be a string (in quotes)");
  }

  /// A duration as `sbx start` takes it: a string ("250ms", "30s") or a number of seconds.
  Result<Millis> duration_of(const toml::node& n, const std::string& key) const {
    std::string text;
    if (auto s = text_of(n))
      text = *s;
    else if (auto i = n.value_exact<std::int64_t>())
      text = std::to_string(*i);
    else
      return at(n, key + " must be a duration such as \"30s\" or \"250ms\"");
    auto d = parse_duration(text);
    if (!d) return at(n, key + ": " + d.error().message);
    return *d;
  }

  /// A path relative to the file's folder (or absolute).
  std::string path_of(const std::string& p) const {
    if (!p.empty() && p[0] == '/') return p;
    if (p.empty() || p == ".") return dir_;
    return dir_ + "/" + p;
  }

  Status command(const toml::node& n, const std::string& key, ProcessDef& d) const {
    if (auto s = text_of(n)) {
      if (s->find_first_not_of(" \t\n") == std::string::npos)
        return at(n, key + " is empty: give a shell line or an array of words");
      d.shell_line = *s;
      return ok_status();
    }
    const auto* a = n.as_array();
    if (!a) return at(n, key + " must be a shell line (a string) or an array of words");
    if (a->empty()) return at(n, key + " is an empty array: give the program and its arguments");
    for (const auto& e : *a) {
      auto s = text_of(e);
      if (!s) return at(e, key + " must be an array of strings");
      d.argv.push_back(*s);
    }
    if (d.argv[0].empty()) return at(n, key + ": the program name is empty");
    return ok_status();
  }

  Status env(const toml::node& n, const std::string& key, ProcessDef& d) const {
    const auto* t = n.as_table();
    if (!t) return at(n, key + " must be a table: env = { NAME = \"value\" }");
    for (const auto& [k, v] : *t) {
      if (!is_env_name(k.str()))
        return at(v, "'" + std::string(k.str()) + "' in " + key + " is not a variable name");
      auto s = text_of(v);
      if (!s) return at(v, key + "." + std::string(k.str()) + " must be a string (in quotes)");
      d.env[std::string(k.str())] = *s;
    }
    return ok_status();
  }

  Status ready(const toml::node& n, const std::string& key, ReadySpec& r) const {
    const auto* t = n.as_table();
    if (!t)
      return at(n, key + " must be a table: { log = \"...\" }, { port = N }, { exec = \"...\" }");
    int kinds = (t->contains("log") ? 1 : 0) + (t->contains("port") ? 1 : 0) +
                (t->contains("exec") ? 1 : 0);
    if (kinds != 1) return at(n, key + " takes exactly one of log, port or exec");
    if (const auto* v = t->get("timeout")) {
      auto d = duration_of(*v, key + ".timeout");
      if (!d) return d.error();
      if (d->count() <= 0) return at(*v, key + ".timeout must be more than 0");
      r.timeout = *d;
    }
    if (const auto* v = t->get("log")) {
      if (auto st = known_keys(*t, key, {"log", "regex", "timeout"}); !st) return st;
      auto s = string_of(*v, key + ".log");
      if (!s) return s.error();
      if (s->empty()) return at(*v, key + ".log is empty: give the text a ready line contains");
      r.kind = ReadySpec::Kind::log;
      r.log = *s;
      if (const auto* g = t->get("regex")) {
        auto b = g->value_exact<bool>();
        if (!b) return at(*g, key + ".regex must be true or false");
        r.regex = *b;
      }
      if (r.regex) {  // the process would be started before its wait found the regex bad
        if (auto m = LineMatcher::make(r.log, true); !m)
          return at(*v, key + ".log: " + m.error().message);
      }
      return ok_status();
    }
    if (const auto* v = t->get("port")) {
      if (auto st = known_keys(*t, key, {"port", "http", "status", "timeout"}); !st) return st;
      auto p = v->value_exact<std::int64_t>();
      if (!p) return at(*v, key + ".port must be a number");
      if (auto st = check_port(*p); !st) return at(*v, key + ".port: " + st.error().message);
      r.kind = ReadySpec::Kind::port;
      r.port = static_cast<int>(*p);
      if (const auto* h = t->get("http")) {
        auto s = string_of(*h, key + ".http");
        if (!s) return s.error();
        r.http = !s->empty() && (*s)[0] == '/' ? *s : "/" + *s;
      }
      if (const auto* st = t->get("status")) {
        if (!r.http) return at(*st, key + ".status goes with http = \"/PATH\"");
        std::string text;
        if (auto i = st->value_exact<std::int64_t>())
          text = std::to_string(*i);
        else if (auto s = text_of(*st))
          text = *s;
        auto range = parse_status_range(text, key + ".status");
        if (!range) return at(*st, range.error().message);
        r.status_lo = range->first;
        r.status_hi = range->second;
      }
      return ok_status();
    }
    const auto& v = *t->get("exec");
    if (auto st = known_keys(*t, key, {"exec", "interval", "timeout"}); !st) return st;
    auto s = string_of(v, key + ".exec");
    if (!s) return s.error();
    if (s->find_first_not_of(" \t\n") == std::string::npos)
      return at(v, key + ".exec is empty: give a shell line that exits 0 once ready");
    r.kind = ReadySpec::Kind::exec;
    r.exec = *s;
    if (const auto* i = t->get("interval")) {
      auto d = duration_of(*i, key + ".interval");
      if (!d) return d.error();
      if (d->count() <= 0) return at(*i, key + ".interval must be more than 0");
      r.interval = *d;
    }
    return ok_status();
  }

  Status depends_on(const toml::node& n, const std::string& key, ProcessDef& d) const {
    const auto* t = n.as_table();
    if (!t) return at(n, key + " must be a table: depends_on = { db = \"ready\" }");
    for (const auto& [k, v] : *t) {
      auto s = text_of(v);
      std::optional<DependsOn> cond;
      for (auto c : {DependsOn::started, DependsOn::ready, DependsOn::completed}) {
        if (s && *s == depends_on_name(c)) cond = c;
      }
      if (!cond)
        return at(v, key + "." + std::string(k.str()) +
                         " must be \"started\", \"ready\" or \"completed\"");
      d.depends_on.push_back(
          {std::string(k.str()), *cond, static_cast<int>(v.source().begin.line)});
    }
    return ok_status();
  }

  Status process(const std::string& name, const toml::node& n, ProcessDef& d) const {
    const std::string where = "process." + name;
    const auto* t = n.as_table();
    if (!t) return at(n, where + " must be a table: [" + where + "]");
    if (auto st = check_id(name); !st) return at(n, "process name: " + st.error().message);
    d.name = name;
    d.line = static_cast<int>(n.source().begin.line);
    d.cwd = dir_;
    for (const auto& [k, v] : *t) {
      const std::string key = where + "." + std::string(k.str());
      const auto kk = k.str();
      Status st = ok_status();
      if (kk == "command") {
        st = command(v, key, d);
      } else if (kk == "cwd" || kk == "env_file") {
        auto s = string_of(v, key);
        if (!s) return s.error();
        if (s->empty()) return at(v, key + " is empty: leave it out or name a path");
        (kk == "cwd" ? d.cwd : d.env_file) = path_of(*s);
        if (kk == "cwd") d.cwd_given = *s;
      } else if (kk == "env") {
        st = env(v, key, d);
      } else if (kk == "restart") {
        auto s = string_of(v, key);
        if (!s) return s.error();
        if (auto c = check_restart_policy(*s); !c) return at(v, key + ": " + c.error().message);
        d.restart = *s;
      } else if (kk == "max_restarts") {
        auto i = v.value_exact<std::int64_t>();
        if (!i) return at(v, key + " must be a number, 0 or more");
        if (auto c = check_max_restarts(*i); !c) return at(v, key + ": " + c.error().message);
        d.max_restarts = static_cast<int>(*i);
      } else if (kk == "timeout") {
        auto dur = duration_of(v, key);
        if (!dur) return dur.error();
        if (dur->count() <= 0) return at(v, key + " must be more than 0");
        d.timeout_ms = dur->count();
      } else if (kk == "log_max") {
        std::string text;
        if (auto s = text_of(v))
          text = *s;
        else if (auto i = v.value_exact<std::int64_t>())
          text = std::to_string(*i);
        else
          return at(v, key + " must be a size such as \"64M\"");
        auto size = parse_byte_size(text);
        if (!size) return at(v, key + ": " + size.error().message);
        if (auto c = check_log_max(*size); !c) return at(v, key + ": " + c.error().message);
        d.log_max = *size;
      } else if (kk == "tty") {
        auto b = v.value_exact<bool>();
        if (!b) return at(v, key + " must be true or false");
        d.tty = *b;
      } else if (kk == "user") {
        auto s = string_of(v, key);
        if (!s) return s.error();
        if (auto c = check_user(*s); !c) return at(v, key + ": " + c.error().message);
        d.user = *s;
      } else if (kk == "ready") {
        st = ready(v, key, d.ready);
      } else if (kk == "depends_on") {
        st = depends_on(v, key, d);
      } else {
        std::string known;
        for (auto p : kProcessKeys) known += (known.empty() ? "" : ", ") + std::string(p);
        return at(
            v, "unknown key '" + std::string(kk) + "' in [" + where + "] (known: " + known + ")");
      }
      if (!st) return st;
    }
    if (d.argv.empty() && d.shell_line.empty())
      return at(n, "[" + where + "] has no command: add command = \"...\"");
    if (d.max_restarts && d.restart == "no")
      return at(*t->get("max_restarts"),
                where + ".max_restarts goes with restart = \"on-failure\" or \"always\"");
    return ok_status();
  }

 private:
  const std::string& file_;
  const std::string& dir_;
};

/// The file, its text shifted as toml_text.hpp says.
Result<Project> parse_shifted(const std::string& text, const std::string& file,
                              const std::string& dir) {
  Reader rd(file, dir);
  toml::table t;
  try {
    t = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return rd.at_line(static_cast<int>(e.source().begin.line),
                      "not valid TOML: " + std::string(e.description()));
  }
  Project p;
  p.file = file;
  p.dir = dir;
  p.name = default_project_name(dir);
  if (auto st = rd.known_keys(t, "the file", {"project", "process"}); !st) return st.error();
  if (const auto* n = t.get("project")) {
    auto s = rd.string_of(*n, "project");
    if (!s) return s.error();
    if (s->empty() || s->find_first_of("\n\r\t") != std::string::npos)
      return rd.at(*n, "project must be a non-empty name on one line");
    p.name = *s;
  }
  const auto* procs = t.get("process");
  if (!procs) return rd.at_line(1, "no processes: add a [process.NAME] table with a command");
  const auto* pt = procs->as_table();
  if (!pt) return rd.at(*procs, "process must hold tables: [process.NAME]");
  for (const auto& [k, v] : *pt) {
    ProcessDef d;
    if (auto st = rd.process(std::string(k.str()), v, d); !st) return st.error();
    p.processes.push_back(std::move(d));
  }
  if (p.processes.empty())
    return rd.at(*procs, "no processes: add a [process.NAME] table with a command");
  // toml++ keeps keys sorted; the file's order is the order of the tables' lines.
  std::stable_sort(p.processes.begin(), p.processes.end(),
                   [](const ProcessDef& a, const ProcessDef& b) { return a.line < b.line; });
  if (auto st = check_dependencies(p); !st) return st.error();
  return p;
}

}  // namespace

Result<Project> parse_project_toml(std::string_view text, const std::string& file,
                                   const std::string& dir) {
  if (!is_utf8(text)) return file_error(file, 1, "the file is not UTF-8 text: save it as UTF-8");
  if (auto fault = toml_text_fault(text)) return file_error(file, fault->line, fault->message);
  auto p = parse_shifted(toml_shifted(text), file, dir);
  if (!p) return Error{p.error().code, toml_unshift(p.error().message)};
  return p;
}

}  // namespace sbx
