// wait-log and wait-port: wait until a process is ready, or learn why it never will be.

#include <netdb.h>
#include <sys/socket.h>

#include <boost/json/array.hpp>
#include <charconv>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/wait_ready.hpp"
#include "cli/waiting.hpp"
#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/utf8.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"
#include "proto/ops.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

Result<std::pair<int, int>> parse_status_range(const std::string& s) {
  auto bad = [&] {
    return make_error(Errc::usage,
                      "bad --status '" + s + "': use a code like 200 or a range like 200-299");
  };
  auto num = [](std::string_view t, int& out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && p == t.data() + t.size() && out >= 100 && out <= 999;
  };
  int lo = 0, hi = 0;
  auto dash = s.find('-');
  if (dash == std::string::npos) {
    if (!num(s, lo)) return bad();
    return std::pair{lo, lo};
  }
  if (!num(std::string_view(s).substr(0, dash), lo) ||
      !num(std::string_view(s).substr(dash + 1), hi) || lo > hi)
    return bad();
  return std::pair{lo, hi};
}

Result<json::array> resolve_host(const std::string& host) {
  json::array out;
  if (host.empty()) {
    out.emplace_back("127.0.0.1");
    out.emplace_back("::1");
    return out;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    return make_error(Errc::usage, "cannot resolve --host '" + host + "': " + ::gai_strerror(rc));
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    char buf[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      std::string a = buf;
      bool dup = false;
      for (const auto& e : out) dup = dup || e.as_string() == a;
      if (!dup) out.emplace_back(a);
    }
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

Result<json::object> wait_log_request(const std::string& id, const std::string& pattern, bool regex,
                                      const std::string& stream, const std::string& timeout) {
  if (auto st = check_id(id); !st) return st.error();
  json::object args;
  args["id"] = id;
  args["pattern"] = proto::bytes_to_json(pattern);
  args["regex"] = regex;
  if (!stream.empty()) {
    if (auto st = check_stream(stream); !st) return st.error();
    args["stream"] = stream;
  }
  if (!timeout.empty()) {
    auto d = parse_duration(timeout);
    if (!d) return d.error();
    args["timeout_ms"] = d->count();
  }
  return args;
}

Result<json::object> wait_port_request(const WaitPortArgs& a) {
  if (auto st = check_id(a.id); !st) return st.error();
  if (auto st = check_port(a.port); !st) return st.error();
  json::object args;
  args["id"] = a.id;
  args["port"] = a.port;
  auto hosts = resolve_host(a.host);
  if (!hosts) return hosts.error();
  args["hosts"] = std::move(*hosts);
  if (!a.http.empty()) args["http_path"] = a.http[0] == '/' ? a.http : "/" + a.http;
  if (!a.status.empty()) {
    if (a.http.empty()) return make_error(Errc::usage, "--status goes with --http PATH");
    auto r = parse_status_range(a.status);
    if (!r) return r.error();
    args["status_lo"] = r->first;
    args["status_hi"] = r->second;
  }
  for (auto [text, key] :
       {std::pair{&a.interval, "interval_ms"}, std::pair{&a.timeout, "timeout_ms"}}) {
    if (text->empty()) continue;
    auto d = parse_duration(*text);
    if (!d) return d.error();
    args[key] = d->count();
  }
  return args;
}

std::string wait_label(const json::object& req) {
  auto str = [&](const char* key) -> std::string {
    const auto* v = req.if_contains(key);
    return v ? escape_non_utf8(proto::bytes_from_json(*v).value_or("")) : std::string();
  };
  std::string label = str("id") + ": ";
  if (const auto* port = req.if_contains("port"); port && port->is_int64()) {
    label += "port " + std::to_string(port->get_int64());
    if (auto path = str("http_path"); !path.empty()) label += " (GET " + path + ")";
    return label;
  }
  const auto* regex = req.if_contains("regex");
  bool is_regex = regex && regex->is_bool() && regex->get_bool();
  label += is_regex ? "log /" + str("pattern") + "/" : "log '" + str("pattern") + "'";
  if (auto stream = str("stream"); !stream.empty()) label += " on " + stream;
  return label;
}

int wait_ready(std::string_view op, json::object req, std::optional<Client> first,
               json::value& answer) {
  // wait_log tells in "scanned" events where the line it has not finished scanning starts,
  // per stream (a logical offset: bytes the stream ever held); a new daemon goes on from there.
  json::object scanned;
  WaitingCall::Hooks hooks;
  Progress progress(wait_label(req));
  hooks.on_tick = progress.ticker();
  hooks.on_event = [&scanned](const json::value& ev) {
    const auto* o = ev.if_object();
    if (!o || proto::get_opt_string(*o, "type") != std::string("scanned")) return;
    for (const char* stream : {"stdout", "stderr"}) {
      if (auto at = proto::get_opt_int(*o, stream)) scanned[stream] = *at;
    }
  };
  hooks.resume = [&scanned](json::object& args) {
    for (const char* stream : {"stdout", "stderr"}) {
      if (auto at = proto::get_opt_int(scanned, stream)) args[std::string("from_") + stream] = *at;
    }
  };
  WaitingCall call(std::string(op), std::move(req), std::move(hooks));
  auto v = call.run(std::move(first));
  progress.clear();
  if (!v) return call.fail(v.error());
  answer = std::move(*v);
  return kExitOk;
}

namespace {

struct WaitLogArgs {
  std::string id;
  std::string pattern;
  bool regex = false;
  std::string stream;  ///< empty: both
  std::string timeout;
  bool json = false;
};

Result<int> run_wait_log(const WaitLogArgs& a) {
  auto args = wait_log_request(a.id, a.pattern, a.regex, a.stream, a.timeout);
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  json::value v;
  if (int rc = wait_ready(proto::op::wait_log, std::move(*args), std::move(*client), v);
      rc != kExitOk)
    return rc;
  if (a.json) {
    print_json(v);
  } else {
    const auto* line = v.is_object() ? v.get_object().if_contains("line") : nullptr;
    auto bytes = line ? proto::bytes_from_json(*line) : std::nullopt;
    if (!bytes) return Error{Errc::protocol, "wait-log: unexpected reply from sbxd"};
    write_out(1, *bytes + "\n");
  }
  return kExitOk;
}

Result<int> run_wait_port(const WaitPortArgs& a) {
  auto args = wait_port_request(a);
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  json::value v;
  return wait_ready(proto::op::wait_port, std::move(*args), std::move(*client), v);
}

}  // namespace

void define_wait_log(CommandDef& parent) {
  auto a = std::make_shared<WaitLogArgs>();
  auto wlog = parent.add("wait-log", "Wait until a line of output contains a pattern; print it",
                         "sbx wait-log [OPTIONS] ID PATTERN",
                         "sbx wait-log web 'Listening on' --timeout 30s\n  sbx wait-log web -E "
                         "'port ([0-9]+)' --json");
  wlog.runs([a] { return run_wait_log(*a); });
  wlog.option("id", a->id, "process id").required().type_name("ID");
  wlog.option("pattern", a->pattern, "text to find (with -E: an ECMAScript regex)")
      .required()
      .type_name("PATTERN");
  wlog.flag("-E,--regex", a->regex, "PATTERN is a regex");
  wlog.option("--stream", a->stream, "search only stdout or stderr").type_name("STREAM");
  wlog.option("--timeout", a->timeout, "give up after this long (exit 124)").type_name("DURATION");
  wlog.flag("--json", a->json, "print {\"line\":...,\"match\":[whole, group1, ...]}");
}

void define_wait_port(CommandDef& parent) {
  auto a = std::make_shared<WaitPortArgs>();
  auto wport = parent.add("wait-port", "Wait until a port accepts connections (or answers HTTP)",
                          "sbx wait-port [OPTIONS] ID PORT",
                          "sbx wait-port web 8000 --http /health --timeout 30s");
  wport.runs([a] { return run_wait_port(*a); });
  wport.option("id", a->id, "process id").required().type_name("ID");
  wport.option("port", a->port, "TCP port").required().type_name("PORT");
  wport.option("--host", a->host, "host to probe (default 127.0.0.1 and ::1)").type_name("HOST");
  wport.option("--http", a->http, "send GET PATH and wait for a good status").type_name("PATH");
  wport.option("--status", a->status, "good statuses: CODE or LO-HI (default 200-399)")
      .type_name("CODE");
  wport.option("--interval", a->interval, "time between probes (default 10ms)")
      .type_name("DURATION");
  wport.option("--timeout", a->timeout, "give up after this long (exit 124)").type_name("DURATION");
}

}  // namespace sbx::cli
