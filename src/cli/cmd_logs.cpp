// logs: print captured output, or follow it.

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_position.hpp"
#include "cli/output.hpp"
#include "cli/waiting.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "common/utf8.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct LogsArgs {
  std::string id;
  bool only_stdout = false;
  bool only_stderr = false;
  std::optional<std::int64_t> tail;
  bool follow = false;
  bool json = false;
};

/// Writes all of `bytes`; a reader that has gone ends sbx as SIGPIPE would.
void emit(int fd, std::string_view bytes) {
  if (!write_out(fd, bytes) && errno == EPIPE) exit_as_if_sigpipe();
}

Result<int> run_logs(const LogsArgs& a) {
  if (auto st = check_id(a.id); !st) return st.error();
  if (a.only_stdout && a.only_stderr)
    return make_error(Errc::usage, "give --stdout or --stderr, not both");
  if (a.tail && *a.tail < 0)
    return make_error(Errc::usage, "-n takes a number of lines, 0 or more");
  proto::LogsRequest req;
  req.id = a.id;
  req.want_stdout = !a.only_stderr;
  req.want_stderr = !a.only_stdout;
  req.tail = a.tail;
  req.follow = a.follow;

  auto client = Client::connect();
  if (!client) return client.error();
  // One stream asked for alone goes to stdout, so that a pipe sees it; both: each to its own.
  bool one_stream = a.only_stdout || a.only_stderr;
  Utf8Sanitizer clean[2];
  Position pos;
  auto on_data = [&](std::uint8_t stream, std::string_view bytes) {
    bool is_err = stream == proto::kStreamStderr;
    pos.at[is_err ? 1 : 0] += static_cast<std::int64_t>(bytes.size());
    if (!a.json) return emit(is_err && !one_stream ? 2 : 1, bytes);
    json::object ev;
    ev["type"] = is_err ? "stderr" : "stdout";
    ev["data"] = clean[is_err ? 1 : 0].feed(bytes);
    ev["time"] = format_rfc3339(now_epoch_ms());
    emit(1, json::serialize(ev) + "\n");
  };
  Result<json::value> v = make_error(Errc::failed, "");
  if (a.follow) {
    WaitingCall::Hooks hooks;
    hooks.on_data = on_data;
    // A gap is never silent: a line on stderr (an event with --json) says how much is missing.
    hooks.on_event = [&](const json::value& ev) {
      pos.on_event(ev, [&](int k, std::int64_t bytes) {
        const char* stream = k == 1 ? "stderr" : "stdout";
        if (a.json) {
          json::object drop;
          drop["type"] = "dropped";
          drop["stream"] = stream;
          drop["bytes"] = bytes;
          drop["time"] = format_rfc3339(now_epoch_ms());
          return emit(1, json::serialize(drop) + "\n");
        }
        emit(2, dropped_line(a.id, stream, bytes));
      });
    };
    hooks.watch_fd = 1;
    auto make = [&req, &pos](bool resumed, const proto::Deadline&) {
      auto r = req;
      if (resumed) pos.resume(r);
      return r.to_json();
    };
    WaitingCall call(proto::LogsRequest::kOp, std::nullopt, make, std::move(hooks));
    v = call.run(std::move(*client));
    if (!v) return call.fail(v.error());
  } else {
    client->watch_reader(1);
    v = client->stream(proto::LogsRequest::kOp, req.to_json(), on_data);
    if (!v) return v.error();
  }
  if (a.json) {
    auto r = record_from_json(*v);
    if (r && r->ended()) {
      json::object ev;
      ev["type"] = "exit";
      ev["status"] = status_name(r->status);
      if (r->exit_code) ev["exit_code"] = *r->exit_code;
      if (r->signal) ev["signal"] = *r->signal;
      if (r->error) ev["error"] = proto::bytes_to_json(*r->error);
      emit(1, json::serialize(ev) + "\n");
    }
  }
  return kExitOk;
}

}  // namespace

void define_logs(CommandDef& parent) {
  auto a = std::make_shared<LogsArgs>();
  auto logs = parent.add(
      "logs",
      "Print captured output (stdout to stdout, stderr to stderr; one stream alone to stdout)",
      "sbx logs [OPTIONS] ID", "sbx logs web --stderr -n 20");
  logs.runs([a] { return run_logs(*a); });
  logs.option("id", a->id, "process id").required().type_name("ID");
  logs.flag("--stdout", a->only_stdout, "only stdout");
  logs.flag("--stderr", a->only_stderr, "only stderr (printed on stdout)");
  logs.option("-n,--lines", a->tail, "only the last N lines of each stream").type_name("N");
  logs.flag("-f,--follow", a->follow, "keep printing new output until the process ends");
  logs.flag("--json", a->json, "print JSON events, one a line");
}

}  // namespace sbx::cli
