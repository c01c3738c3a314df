#include "cli/output.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "common/clock.hpp"
#include "common/utf8.hpp"

namespace sbx::cli {

void print_json(const boost::json::value& v) {
  std::string s = boost::json::serialize(v);
  s += '\n';
  write_out(1, s);
}

namespace {

void append_json(std::string& out, const boost::json::value& v) {
  namespace json = boost::json;
  switch (v.kind()) {
    case json::kind::double_: {
      char buf[32];
      double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        break;
      }
      auto end = std::to_chars(buf, buf + sizeof buf, d).ptr;  // shortest round trip: 97.7
      out.append(buf, end);
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::value(json::string(kv.key())));
        out += ':';
        append_json(out, kv.value());
      }
      out += '}';
      break;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

void print_json_readable(const boost::json::value& v) {
  std::string s;
  append_json(s, v);
  s += '\n';
  write_out(1, s);
}

bool write_out(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

namespace {
std::function<void()>& sigpipe_hook() {
  static std::function<void()> hook;
  return hook;
}
}  // namespace

void before_sigpipe_exit(std::function<void()> fn) { sigpipe_hook() = std::move(fn); }

void emit(int fd, std::string_view bytes) {
  if (!write_out(fd, bytes) && errno == EPIPE) exit_as_if_sigpipe();
}

void exit_as_if_sigpipe() {
  if (auto hook = std::exchange(sigpipe_hook(), nullptr)) hook();
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::sigprocmask(SIG_UNBLOCK, &pipe_only, nullptr);
  ::raise(SIGPIPE);
  ::_exit(128 + SIGPIPE);
}

namespace {

/// SGR codes for a status word: running green, completed dim, failed red, killed yellow,
/// error bold red, starting cyan.
const char* status_color(ProcStatus s) {
  switch (s) {
    case ProcStatus::starting:
      return "\033[36m";
    case ProcStatus::running:
      return "\033[32m";
    case ProcStatus::completed:
      return "\033[2m";
    case ProcStatus::failed:
      return "\033[31m";
    case ProcStatus::killed:
      return "\033[33m";
    case ProcStatus::error:
      return "\033[1;31m";
  }
  return "";
}

}  // namespace

TableStyle table_style_for(int fd) {
  TableStyle st;
  if (!::isatty(fd)) return st;
  st.relative_time = true;
  st.now = now_epoch_ms();
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  st.color = !(no_color && *no_color) && !(term && std::string_view(term) == "dumb");
  return st;
}

std::string format_ago(EpochMs then, EpochMs now) {
  std::int64_t s = std::max<std::int64_t>(0, (now - then) / 1000);
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string format_ps_table(const std::vector<ProcessRecord>& records, const TableStyle& style) {
  using Row = std::array<std::string, 6>;
  constexpr std::size_t kStatus = 2;
  std::vector<Row> rows;
  std::vector<const char*> colors{""};  // per row; the header has none
  rows.reserve(records.size() + 1);
  rows.push_back({"ID", "PID", "STATUS", "EXIT", "STARTED", "COMMAND"});
  for (const auto& r : records) {
    std::string exit = r.exit_code ? std::to_string(*r.exit_code) : r.signal ? *r.signal : "-";
    std::string started = !r.start_time         ? "-"
                          : style.relative_time ? format_ago(*r.start_time, style.now)
                                                : format_rfc3339(*r.start_time);
    rows.push_back({r.id, r.pid ? std::to_string(*r.pid) : "-", status_name(r.status), exit,
                    started, escape_non_utf8(r.command)});
    colors.push_back(style.color ? status_color(r.status) : "");
  }
  std::array<std::size_t, 6> width{};
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    for (std::size_t i = 0; i < row.size(); ++i) {
      bool paint = i == kStatus && *colors[r];
      if (paint) out += colors[r];
      out += row[i];
      if (paint) out += "\033[0m";
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size());
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace sbx::cli
