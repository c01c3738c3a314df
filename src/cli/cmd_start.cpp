// start: start a command in the background, print its id, wait until it is ready.

#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/wait_ready.hpp"
#include "common/atomic_file.hpp"
#include "common/byte_size.hpp"
#include "common/command_line.hpp"
#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "proto/bytes.hpp"
#include "proto/ops.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_start.hpp"

extern char** environ;

namespace sbx::cli {
namespace json = boost::json;
using proto::bytes_to_json;

namespace {

struct StartArgs {
  std::string id;
  std::string cwd;
  std::vector<std::string> env;        ///< -e K=V
  std::vector<std::string> env_files;  ///< --env-file F
  std::string session;                 ///< empty: $SBX_SESSION, else "default"
  bool json = false;
  std::string timeout;        ///< --timeout D: stop it once it has run D
  bool auto_cleanup = false;  ///< --rm
  std::string restart;        ///< kRestartPolicies
  std::optional<int> max_restarts;
  std::string log_max;               ///< --log-max SIZE per stream; empty: kDefaultLogMax
  bool tty = false;                  ///< --tty: stdout is a pseudo-terminal
  std::string tty_size;              ///< --tty-size COLSxROWS; empty: kDefaultTtySize
  std::vector<std::string> command;  ///< positional words
  bool argv_form = false;            ///< the words came after `--`
  std::optional<int> wait_port;      ///< --wait-port: return once it accepts connections
  std::string wait_http;             ///< --http PATH with --wait-port
  std::string wait_log;              ///< --wait-log PATTERN
  std::string wait_timeout;          ///< --wait-timeout D
};

std::string current_dir() {
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) return buf;
  return "/";
}

Result<int> run_start(const StartArgs& a) {
  if (a.command.empty()) {
    return make_error(
        Errc::usage,
        "give a command: sbx start [OPTIONS] -- CMD [ARG...] or sbx start 'SHELL LINE'");
  }
  if (!a.id.empty()) {
    if (auto st = check_id(a.id); !st) return st.error();
  }
  proto::StartRequest req;
  req.id = a.id;
  if (!a.argv_form && a.command.size() == 1) {
    if (a.command[0].find_first_not_of(" \t\n") == std::string::npos)
      return make_error(Errc::usage, "the shell line is empty");
    req.shell_line = a.command[0];
  } else {
    req.argv = a.command;
  }

  std::string cwd = current_dir();
  if (!a.cwd.empty()) cwd = a.cwd[0] == '/' ? a.cwd : cwd + "/" + a.cwd;
  req.cwd = cwd;

  for (const auto& file : a.env_files) {
    auto text = read_file(file);
    if (!text) return make_error(Errc::usage, "cannot read env file: " + text.error().message);
    if (auto bad = parse_env_file(*text, req.env)) {
      return make_error(Errc::usage, file + ":" + std::to_string(bad->line) + ": " + bad->message);
    }
  }
  for (const auto& kv : a.env) {
    std::string k, v;
    if (!parse_env_assignment(kv, k, v))
      return make_error(Errc::usage, "bad -e '" + kv + "': use -e NAME=VALUE");
    req.env[k] = v;
  }
  for (char** e = environ; e && *e; ++e) req.base_env.emplace_back(*e);

  if (!a.timeout.empty()) {
    auto d = parse_duration(a.timeout);
    if (!d) return d.error();
    if (d->count() <= 0) return make_error(Errc::usage, "--timeout must be more than 0");
    req.timeout_ms = d->count();
  }
  req.auto_cleanup = a.auto_cleanup;
  if (!a.restart.empty()) req.restart = a.restart;
  if (!a.log_max.empty()) {
    auto n = parse_byte_size(a.log_max);
    if (!n) return n.error();
    req.log_max = *n;
  }
  req.tty = a.tty;
  if (!a.tty_size.empty()) {
    if (!a.tty) return make_error(Errc::usage, "--tty-size goes with --tty");
    if (auto size = parse_tty_size(a.tty_size); !size) return size.error();
    req.tty_size = a.tty_size;
  }
  if (a.max_restarts) {
    if (*a.max_restarts < 0)
      return make_error(Errc::usage, "--max-restarts takes a number, 0 or more");
    if (a.restart.empty() || a.restart == "no")
      return make_error(Errc::usage, "--max-restarts goes with --restart on-failure or always");
    req.max_restarts = *a.max_restarts;
  }

  req.session = a.session;
  if (req.session.empty()) {
    const char* s = std::getenv("SBX_SESSION");
    req.session = s && *s ? s : "default";
  }
  // The daemon's rules (the restart policy, the log cap, ...), checked before it is asked.
  auto checked = proto::checked_json(req);
  if (!checked) return checked.error();
  json::object args = std::move(*checked);

  // Readiness requests are built (and checked) before anything starts.
  if (!a.wait_http.empty() && !a.wait_port)
    return make_error(Errc::usage, "--http goes with --wait-port PORT");
  if (!a.wait_timeout.empty() && !a.wait_port && a.wait_log.empty()) {
    return make_error(Errc::usage, "--wait-timeout goes with --wait-port or --wait-log");
  }
  std::optional<proto::WaitPortRequest> port_req;
  std::optional<proto::WaitLogRequest> log_req;
  if (a.wait_port) {
    WaitPortArgs w;
    w.id = a.id.empty() ? "0" : a.id;
    w.port = *a.wait_port;
    w.http = a.wait_http;
    w.timeout = a.wait_timeout;
    auto r = wait_port_request(w);
    if (!r) return r.error();
    port_req = std::move(*r);
  }
  if (!a.wait_log.empty()) {
    auto r = wait_log_request(a.id.empty() ? "0" : a.id, a.wait_log, false, "", a.wait_timeout);
    if (!r) return r.error();
    log_req = std::move(*r);
  }

  if (auto size = json::serialize(args).size(); size > proto::kMaxRequestPayload) {
    std::size_t env_bytes = 0;
    for (const auto& v : args["base_env"].as_array()) env_bytes += v.as_string().size() + 1;
    for (const auto& [k, v] : req.env) env_bytes += k.size() + v.size() + 2;
    return Error{Errc::failed, "the environment (" + std::to_string(env_bytes) +
                                   " bytes) and command make a start request of " +
                                   std::to_string(size) + " bytes, more than the " +
                                   std::to_string(proto::kMaxRequestPayload) +
                                   " bytes sbxd accepts"};
  }

  auto client = Client::connect();
  if (!client) return client.error();
  auto rec = client->call(proto::StartRequest::kOp, std::move(args));
  if (!rec) return rec.error();
  const auto* idv = rec->is_object() ? rec->get_object().if_contains("id") : nullptr;
  std::string id = idv && idv->is_string() ? std::string(idv->get_string()) : std::string("?");
  if (a.json)
    print_json(*rec);
  else
    write_out(1, id + "\n");

  // Ready means every requested condition holds; on failure the process keeps running.
  // The process runs from here on: a daemon lost now is waited out as by the wait commands.
  json::value answer;
  if (log_req) {
    log_req->id = id;
    if (int rc = wait_ready(*log_req, std::nullopt, answer); rc != kExitOk) return rc;
  }
  if (port_req) {
    port_req->id = id;
    if (int rc = wait_ready(*port_req, std::nullopt, answer); rc != kExitOk) return rc;
  }
  return kExitOk;
}

/// The command line of `start`: the words after `--` verbatim, else what follows the
/// options (one word: a shell line). A word before `--` that CLI11 left is an option it
/// does not know, or a stray word.
Result<int> run_start_words(StartArgs& a, const CommandDef& start) {
  const auto rest = start.remaining();
  const auto& argv = start.argv();
  if (!rest.empty() && rest[0].starts_with("-")) {
    return make_error(Errc::usage, "start: unknown option '" + rest[0] +
                                       "' (see 'sbx start --help'" +
                                       (argv ? ")" : "; a command goes after '--')"));
  }
  if (argv) {
    if (!rest.empty())
      return make_error(Errc::usage, "unexpected '" + rest[0] + "' before '--': put options first");
    a.command = *argv;
    a.argv_form = true;
  } else {
    a.command = rest;
  }
  return run_start(a);
}

}  // namespace

void define_start(CommandDef& parent) {
  auto a = std::make_shared<StartArgs>();
  auto start = parent.add("start", "Start a command in the background and print its id",
                          "sbx start [OPTIONS] -- CMD [ARG...]    (argv, no shell)\n"
                          "       sbx start [OPTIONS] 'SHELL LINE'       (one argument: sh -c)",
                          "sbx start --id web -- python3 -m http.server 8000\n"
                          "  sbx start --id build 'make -j4 2>&1 | tee build.txt'");
  start.runs([a, start] { return run_start_words(*a, start); });
  start.option("--id", a->id, "a custom id: letters, digits, '.', '_', '-' (max 64)")
      .type_name("NAME");
  start.option("--cwd", a->cwd, "working directory (default: the current one)").type_name("DIR");
  start.option("-e,--env", a->env, "set NAME=VALUE in its environment (repeatable)")
      .one_value_each()
      .type_name("NAME=VALUE");
  start.option("--env-file", a->env_files, "read NAME=VALUE lines from a file (repeatable)")
      .one_value_each()
      .type_name("FILE");
  start
      .option("--session", a->session,
              "tag it with a session (default: $SBX_SESSION, else 'default')")
      .type_name("SESSION");
  start.flag("--json", a->json, "print the record as JSON instead of the id");
  start.option("--timeout", a->timeout, "stop it (TERM, KILL after 10s) once it has run this long")
      .type_name("DURATION");
  start.flag("--rm", a->auto_cleanup,
             "remove its record and logs once it ended and was waited for");
  start
      .option("--restart", a->restart,
              "restart policy: no, on-failure, always (back-off 100ms..30s)")
      .type_name("POLICY");
  start.option("--max-restarts", a->max_restarts, "give up after N restarts (default: no limit)")
      .type_name("N");
  start
      .option("--log-max", a->log_max,
              "cap each of its logs, keeping the newest output (default 64M; 0: no cap)")
      .type_name("SIZE");
  start.flag("--tty", a->tty,
             "its stdout is a terminal (line-buffered, colours); stderr stays apart");
  start.option("--tty-size", a->tty_size, "with --tty: the window size (default 80x24)")
      .type_name("COLSxROWS");
  start.option("--wait-port", a->wait_port, "return only once this port accepts connections")
      .type_name("PORT");
  start.option("--http", a->wait_http, "with --wait-port: once GET PATH answers 200-399")
      .type_name("PATH");
  start.option("--wait-log", a->wait_log, "return only once a line of output contains this text")
      .type_name("PATTERN");
  start.option("--wait-timeout", a->wait_timeout, "give up waiting after this long (exit 124)")
      .type_name("DURATION");
  start.takes_command_line();
}

}  // namespace sbx::cli
