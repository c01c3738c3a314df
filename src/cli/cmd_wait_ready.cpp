// wait-log and wait-port: wait until a process is ready, or learn why it never will be.

#include <netdb.h>
#include <sys/socket.h>

#include <boost/json/array.hpp>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/last_lines.hpp"
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
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

Result<std::vector<std::string>> resolve_host(const std::string& host) {
  std::vector<std::string> out;
  if (host.empty())
    return std::vector<std::string>(std::begin(proto::kDefaultProbeHosts),
                                    std::end(proto::kDefaultProbeHosts));
  if (host.find("://") != std::string::npos)  // a URL for sbx's own --host, put after the command
    return make_error(Errc::usage,
                      "wait-port's --host is the address to probe, not a URL: to "
                      "reach another host's daemon, put --host before the command "
                      "(sbx --host " +
                          host + " wait-port ...)");
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
      for (const auto& e : out) dup = dup || e == a;
      if (!dup) out.emplace_back(a);
    }
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

Result<proto::WaitLogRequest> wait_log_request(const std::string& id, const std::string& pattern,
                                               bool regex, const std::string& stream,
                                               const std::string& timeout) {
  if (auto st = check_id(id); !st) return st.error();
  proto::WaitLogRequest req;
  req.id = id;
  req.pattern = pattern;
  req.regex = regex;
  if (!stream.empty()) {
    if (auto st = check_stream(stream); !st) return st.error();
    req.stream = stream;
  }
  if (!timeout.empty()) {
    auto d = parse_duration(timeout);
    if (!d) return d.error();
    req.deadline.timeout = *d;
  }
  return req;
}

Result<proto::WaitPortRequest> wait_port_request(const WaitPortArgs& a) {
  if (auto st = check_id(a.id); !st) return st.error();
  if (a.port) {
    if (auto st = check_port(*a.port); !st) return st.error();
  } else if (a.any_owner) {
    return make_error(Errc::usage,
                      "--any-owner goes with a PORT: without one, the port is the tree's");
  }
  proto::WaitPortRequest req;
  req.id = a.id;
  req.port = a.port.value_or(0);
  req.any_owner = a.any_owner;
  auto hosts = resolve_host(a.host);
  if (!hosts) return hosts.error();
  req.hosts = std::move(*hosts);
  if (!a.http.empty()) req.http_path = a.http[0] == '/' ? a.http : "/" + a.http;
  if (!a.status.empty()) {
    if (a.http.empty()) return make_error(Errc::usage, "--status goes with --http PATH");
    auto r = parse_status_range(a.status, "--status");
    if (!r) return r.error();
    req.status_lo = r->first;
    req.status_hi = r->second;
  }
  for (auto [text, out] :
       {std::pair{&a.interval, &req.interval}, std::pair{&a.timeout, &req.deadline.timeout}}) {
    if (text->empty()) continue;
    auto d = parse_duration(*text);
    if (!d) return d.error();
    *out = *d;
  }
  return req;
}

std::string wait_label(const proto::WaitPortRequest& req) {
  std::string label = escape_non_utf8(req.id) + ": " +
                      (req.port ? "port " + std::to_string(req.port) : std::string("a TCP port"));
  if (req.http_path && !req.http_path->empty())
    label += " (GET " + escape_non_utf8(*req.http_path) + ")";
  return label;
}

std::string wait_label(const proto::WaitLogRequest& req) {
  std::string label = escape_non_utf8(req.id) + ": ";
  auto pattern = escape_non_utf8(req.pattern);
  label += req.regex ? "log /" + pattern + "/" : "log '" + pattern + "'";
  if (req.stream != "both") label += " on " + req.stream;
  return label;
}

namespace {

/// Runs one wait request, resumed by `resume` when it goes to a new daemon; with `show`, a
/// progress line while it waits. `gave_up`: no daemon answered in time.
template <class Request, class Resume>
Result<json::value> run_ready(const Request& req, std::optional<Client> first, bool show,
                              bool& gave_up, Client::EventFn on_event, Resume resume) {
  WaitingCall::Hooks hooks;
  std::optional<Progress> progress;
  if (show) hooks.on_tick = progress.emplace(wait_label(req)).ticker();
  hooks.on_event = std::move(on_event);
  auto make = [&req, &resume](bool resumed, const proto::Deadline& deadline) {
    auto r = req;
    r.deadline = deadline;
    if (resumed) resume(r);
    return r.to_json();
  };
  WaitingCall call(Request::kOp, req.deadline.timeout, make, std::move(hooks));
  auto v = call.run(std::move(first));
  if (progress) progress->clear();
  gave_up = !v && call.fail_code(v.error()) == kExitNoDaemon;
  return v;
}

Result<json::value> run_log_ready(const proto::WaitLogRequest& req, std::optional<Client> first,
                                  bool show, bool& gave_up) {
  // wait_log tells in "scanned" events where the line it has not finished scanning starts,
  // per stream (a logical offset: bytes the stream ever held); a new daemon goes on from there.
  proto::StreamOffsets scanned;
  auto on_event = [&scanned](const json::value& ev) {
    auto o = proto::read_offsets_event(ev, proto::kScannedEvent);
    if (!o) return;
    for (int k = 0; k < 2; ++k) {
      if (o->at[k]) scanned.at[k] = o->at[k];
    }
  };
  return run_ready(req, std::move(first), show, gave_up, on_event,
                   [&scanned](proto::WaitLogRequest& r) { r.from = scanned; });
}

/// The exit code of a failed wait, its error printed once; when the process ended first,
/// the end of its output after it.
int failed_wait(const Error& e, bool gave_up, const std::string& id) {
  int code = report(e);
  if (gave_up) return kExitNoDaemon;
  if (e.code == Errc::failed) print_last_lines(id);
  return code;
}

}  // namespace

int wait_ready(const proto::WaitLogRequest& req, std::optional<Client> first, json::value& answer) {
  bool gave_up = false;
  auto v = run_log_ready(req, std::move(first), true, gave_up);
  if (!v) return failed_wait(v.error(), gave_up, req.id);
  answer = std::move(*v);
  return kExitOk;
}

int wait_ready(const proto::WaitPortRequest& req, std::optional<Client> first,
               json::value& answer) {
  bool gave_up = false;
  auto v = run_ready(req, std::move(first), true, gave_up, nullptr, [](proto::WaitPortRequest&) {});
  if (!v) return failed_wait(v.error(), gave_up, req.id);
  answer = std::move(*v);
  return kExitOk;
}

Result<json::value> await_ready(const proto::WaitLogRequest& req) {
  bool gave_up = false;
  return run_log_ready(req, std::nullopt, false, gave_up);
}

Result<json::value> await_ready(const proto::WaitPortRequest& req) {
  bool gave_up = false;
  return run_ready(req, std::nullopt, false, gave_up, nullptr, [](proto::WaitPortRequest&) {});
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
  if (int rc = wait_ready(*args, std::move(*client), v); rc != kExitOk) return rc;
  if (a.json) {
    print_json(v);
  } else {
    auto reply = proto::WaitLogReply::from_json(v);
    if (!reply) return Error{Errc::protocol, "wait-log: unexpected reply from sbxd"};
    write_out(1, reply->line + "\n");
  }
  return kExitOk;
}

Result<int> run_wait_port(const WaitPortArgs& a) {
  auto args = wait_port_request(a);
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  json::value v;
  if (int rc = wait_ready(*args, std::move(*client), v); rc != kExitOk) return rc;
  if (args->port == 0) {  // the port it found is the answer
    auto reply = proto::WaitPortReply::from_json(v);
    if (!reply) return Error{Errc::protocol, "wait-port: unexpected reply from sbxd"};
    write_out(1, std::to_string(reply->port) + "\n");
  }
  return kExitOk;
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
  auto wport = parent.add(
      "wait-port", "Wait until the process serves a port (or answers HTTP); no PORT: print it",
      "sbx wait-port [OPTIONS] ID [PORT]",
      "sbx wait-port web 8000 --http /health --timeout 30s\n"
      "  port=$(sbx wait-port web --timeout 30s)");
  wport.runs([a] { return run_wait_port(*a); });
  wport.option("id", a->id, "process id").required().type_name("ID");
  wport.option("port", a->port, "TCP port (none: the first the process listens on)")
      .type_name("PORT");
  wport.flag("--any-owner", a->any_owner,
             "ready once anything accepts on PORT, not only this process");
  wport.option("--host", a->host, "host to probe (default 127.0.0.1 and ::1)").type_name("HOST");
  wport.option("--http", a->http, "send GET PATH and wait for a good status").type_name("PATH");
  wport.option("--status", a->status, "good statuses: CODE or LO-HI (default 200-399)")
      .type_name("CODE");
  wport.option("--interval", a->interval, "time between probes (default 10ms)")
      .type_name("DURATION");
  wport.option("--timeout", a->timeout, "give up after this long (exit 124)").type_name("DURATION");
}

}  // namespace sbx::cli
