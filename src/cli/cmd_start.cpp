#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/wait_ready.hpp"
#include "common/atomic_file.hpp"
#include "common/byte_size.hpp"
#include "common/command_line.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "proto/bytes.hpp"
#include "proto/protocol.hpp"

extern char** environ;

namespace sbx::cli {
namespace json = boost::json;
using proto::bytes_to_json;

namespace {

std::string current_dir() {
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) return buf;
  return "/";
}

}  // namespace

int run_start(const StartArgs& a) {
  if (a.command.empty()) {
    return report_usage("give a command: sbx start [OPTIONS] -- CMD [ARG...] or sbx start 'SHELL LINE'");
  }
  if (!a.id.empty()) {
    if (auto st = check_id(a.id); !st) return report(st.error());
  }
  json::object args;
  if (!a.id.empty()) args["id"] = a.id;
  if (!a.argv_form && a.command.size() == 1) {
    if (a.command[0].find_first_not_of(" \t\n") == std::string::npos) return report_usage("the shell line is empty");
    args["shell"] = bytes_to_json(a.command[0]);
  } else {
    if (a.command[0].empty()) return report_usage("the program name is empty");
    json::array argv;
    for (const auto& w : a.command) argv.push_back(bytes_to_json(w));
    args["argv"] = std::move(argv);
  }

  std::string cwd = current_dir();
  if (!a.cwd.empty()) cwd = a.cwd[0] == '/' ? a.cwd : cwd + "/" + a.cwd;
  // Arguments, paths and the environment are bytes, not text: see proto/bytes.hpp.
  args["cwd"] = bytes_to_json(cwd);

  std::map<std::string, std::string> env;
  for (const auto& file : a.env_files) {
    auto text = read_file(file);
    if (!text) return report_usage("cannot read env file: " + text.error().message);
    if (auto bad = parse_env_file(*text, env)) {
      return report_usage(file + ":" + std::to_string(bad->line) + ": " + bad->message);
    }
  }
  for (const auto& kv : a.env) {
    std::string k, v;
    if (!parse_env_assignment(kv, k, v)) return report_usage("bad -e '" + kv + "': use -e NAME=VALUE");
    env[k] = v;
  }
  json::object overrides;
  for (const auto& [k, v] : env) overrides[k] = bytes_to_json(v);
  args["env"] = std::move(overrides);
  json::array base;
  for (char** e = environ; e && *e; ++e) base.push_back(bytes_to_json(*e));
  args["base_env"] = std::move(base);

  if (!a.timeout.empty()) {
    auto d = parse_duration(a.timeout);
    if (!d) return report(d.error());
    if (d->count() <= 0) return report_usage("--timeout must be more than 0");
    args["timeout_ms"] = d->count();
  }
  if (a.auto_cleanup) args["auto_cleanup"] = true;
  if (!a.restart.empty()) {
    if (a.restart != "no" && a.restart != "on-failure" && a.restart != "always") {
      return report_usage("bad --restart '" + a.restart + "': use no, on-failure or always");
    }
    args["restart"] = a.restart;
  }
  if (!a.log_max.empty()) {
    auto n = parse_byte_size(a.log_max);
    if (!n) return report(n.error());
    if (*n > 0 && *n < (64 << 10)) return report_usage("--log-max must be 0 (no cap) or at least 64K");
    args["log_max"] = *n;
  }
  if (a.max_restarts) {
    if (*a.max_restarts < 0) return report_usage("--max-restarts takes a number, 0 or more");
    if (a.restart.empty() || a.restart == "no") return report_usage("--max-restarts goes with --restart on-failure or always");
    args["max_restarts"] = *a.max_restarts;
  }

  std::string session = a.session;
  if (session.empty()) {
    const char* s = std::getenv("SBX_SESSION");
    session = s && *s ? s : "default";
  }
  args["session"] = bytes_to_json(session);

  // Readiness requests are built (and checked) before anything starts.
  if (!a.wait_http.empty() && !a.wait_port) return report_usage("--http goes with --wait-port PORT");
  if (!a.wait_timeout.empty() && !a.wait_port && a.wait_log.empty()) {
    return report_usage("--wait-timeout goes with --wait-port or --wait-log");
  }
  std::optional<json::object> port_req, log_req;
  if (a.wait_port) {
    WaitPortArgs w;
    w.id = a.id.empty() ? "0" : a.id;
    w.port = *a.wait_port;
    w.http = a.wait_http;
    w.timeout = a.wait_timeout;
    auto r = wait_port_request(w);
    if (!r) return report(r.error());
    port_req = std::move(*r);
  }
  if (!a.wait_log.empty()) {
    auto r = wait_log_request(a.id.empty() ? "0" : a.id, a.wait_log, false, "", a.wait_timeout);
    if (!r) return report(r.error());
    log_req = std::move(*r);
  }

  if (auto size = json::serialize(args).size(); size > proto::kMaxRequestPayload) {
    std::size_t env_bytes = 0;
    for (const auto& v : args["base_env"].as_array()) env_bytes += v.as_string().size() + 1;
    for (const auto& [k, v] : env) env_bytes += k.size() + v.size() + 2;
    return report(Error{Errc::failed, "the environment (" + std::to_string(env_bytes) +
                                          " bytes) and command make a start request of " + std::to_string(size) +
                                          " bytes, more than the " + std::to_string(proto::kMaxRequestPayload) +
                                          " bytes sbxd accepts"});
  }

  auto client = Client::connect();
  if (!client) return report(client.error());
  auto rec = client->call("start", std::move(args));
  if (!rec) return report(rec.error());
  const auto* idv = rec->is_object() ? rec->get_object().if_contains("id") : nullptr;
  std::string id = idv && idv->is_string() ? std::string(idv->get_string()) : std::string("?");
  if (a.json) print_json(*rec);
  else write_out(1, id + "\n");

  // Ready means every requested condition holds; on failure the process keeps running.
  // The process runs from here on: a daemon lost now is waited out as by the wait commands.
  for (auto* req : {log_req ? &*log_req : nullptr, port_req ? &*port_req : nullptr}) {
    if (!req) continue;
    (*req)["id"] = id;
    json::value answer;
    std::string op = log_req && req == &*log_req ? "wait_log" : "wait_port";
    if (int rc = wait_ready(op, std::move(*req), std::nullopt, answer); rc != kExitOk) return rc;
  }
  return kExitOk;
}

}  // namespace sbx::cli
