// start: start a command in the background, print its id, wait until it is ready.

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/start_request.hpp"
#include "cli/wait_ready.hpp"
#include "proto/requests_start.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct StartArgs {
  ProcessArgs process;
  bool json = false;
  std::optional<int> wait_port;  ///< --wait-port: return once it accepts connections
  std::string wait_http;         ///< --http PATH with --wait-port
  std::string wait_log;          ///< --wait-log PATTERN
  std::string wait_timeout;      ///< --wait-timeout D
};

Result<int> run_start(const StartArgs& a) {
  auto checked = start_request(a.process, "start");
  if (!checked) return checked.error();
  json::object args = std::move(*checked);
  const std::string& given_id = a.process.id;

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
    w.id = given_id.empty() ? "0" : given_id;
    w.port = a.wait_port;
    w.http = a.wait_http;
    w.timeout = a.wait_timeout;
    auto r = wait_port_request(w);
    if (!r) return r.error();
    port_req = std::move(*r);
  }
  if (!a.wait_log.empty()) {
    auto r =
        wait_log_request(given_id.empty() ? "0" : given_id, a.wait_log, false, "", a.wait_timeout);
    if (!r) return r.error();
    log_req = std::move(*r);
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

}  // namespace

void define_start(CommandDef& parent) {
  auto a = std::make_shared<StartArgs>();
  auto start = parent.add("start", "Start a command in the background and print its id",
                          "sbx start [OPTIONS] -- CMD [ARG...]    (argv, no shell)\n"
                          "       sbx start [OPTIONS] 'SHELL LINE'       (one argument: sh -c)",
                          "sbx start --id web -- python3 -m http.server 8000\n"
                          "  sbx start --id build 'make -j4 2>&1 | tee build.txt'");
  start.runs([a, start]() -> Result<int> {
    if (auto st = take_command_words(a->process, start, "start"); !st) return st.error();
    return run_start(*a);
  });
  define_process_options(start, a->process,
                         "remove its record and logs once it ended and was waited for");
  start.flag("--json", a->json, "print the record as JSON instead of the id");
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
