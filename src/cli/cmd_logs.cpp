// logs: print captured output, or follow it.

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_position.hpp"
#include "cli/log_printer.hpp"
#include "cli/logs_args.hpp"
#include "cli/output.hpp"
#include "cli/waiting.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

Result<int> run_logs(const LogsArgs& a) {
  if (a.ids.empty() && a.session.empty() && !a.all)
    return make_error(Errc::usage, "give a process id (or several, or --session S, or --all)");
  if (!a.many()) {
    if (auto st = check_id(a.ids[0]); !st) return st.error();
  }
  if (a.only_stdout && a.only_stderr)
    return make_error(Errc::usage, "give --stdout or --stderr, not both");
  if (a.tail && *a.tail < 0)
    return make_error(Errc::usage, "-n takes a number of lines, 0 or more");
  proto::LogsRequest req;
  req.want_stdout = !a.only_stderr;
  req.want_stderr = !a.only_stdout;
  req.tail = a.tail;
  req.follow = a.follow;
  req.timed = true;
  EpochNs now = now_epoch_ns();
  if (!a.since.empty()) {
    auto t = parse_time_spec(a.since, "--since", now);
    if (!t) return t.error();
    req.since_ns = *t;
  }
  if (!a.until.empty()) {
    auto t = parse_time_spec(a.until, "--until", now);
    if (!t) return t.error();
    req.until_ns = *t + 999;  // to the end of its microsecond: a time -t printed takes its line in
  }
  if (a.many()) return run_logs_many(a, req);
  req.id = a.ids[0];

  auto client = Client::connect();
  if (!client) return client.error();
  // One stream asked for alone goes to stdout, so that a pipe sees it; both: each to its own.
  LogPrinter printer({a.json, a.timestamps, a.only_stdout || a.only_stderr});
  Position pos;
  auto on_chunk = [&](std::uint8_t stream, const proto::Chunk& c) {
    pos.at[stream == proto::kStreamStderr ? 1 : 0] += static_cast<std::int64_t>(c.bytes.size());
    printer.chunk(stream, c.runs, c.bytes);
  };
  auto on_data = [&](std::uint8_t stream, std::string_view bytes) {  // an older daemon's DATA
    on_chunk(stream, proto::Chunk{0, {{0, static_cast<std::uint32_t>(bytes.size())}}, bytes});
  };
  Result<json::value> v = make_error(Errc::failed, "");
  if (a.follow) {
    WaitingCall::Hooks hooks;
    hooks.on_data = on_data;
    hooks.on_chunk = on_chunk;
    // A gap is never silent: a line on stderr (an event with --json) says how much is missing.
    hooks.on_event = [&](const json::value& ev) {
      pos.on_event(ev, [&](int k, std::int64_t bytes) {
        const char* stream = k == 1 ? "stderr" : "stdout";
        if (a.json) return emit(1, json::serialize(dropped_event({}, stream, bytes)) + "\n");
        emit(2, dropped_line(req.id, stream, bytes));
      });
    };
    hooks.watch_fd = 1;
    WaitingCall call(proto::LogsRequest::kOp, std::nullopt, pos.request_of(req), std::move(hooks));
    v = call.run(std::move(*client));
    if (!v) {
      printer.finish();  // what came before the daemon was lost for good is printed whole
      return call.fail(v.error());
    }
  } else {
    client->watch_reader(1);
    v = client->stream(proto::LogsRequest::kOp, req.to_json(), on_data, {}, {}, on_chunk);
    if (!v) {
      printer.finish();
      return v.error();
    }
  }
  printer.finish();
  if (a.json) {
    auto r = record_from_json(*v);
    if (r && r->ended()) emit(1, json::serialize(exit_event({}, *r)) + "\n");
  }
  return kExitOk;
}

}  // namespace

void define_logs(CommandDef& parent) {
  auto a = std::make_shared<LogsArgs>();
  auto logs = parent.add("logs",
                         "Print captured output in write order (stdout to stdout, stderr to "
                         "stderr; one stream alone to stdout); of several processes, merged "
                         "in time order, each line after its id",
                         "sbx logs [OPTIONS] ID [ID...] | --session S | --all",
                         "sbx logs web --stderr -n 20");
  logs.runs([a] { return run_logs(*a); });
  logs.option("ids", a->ids, "process ids").type_name("ID");
  logs.option("--session", a->session, "every process of this session").type_name("SESSION");
  logs.flag("--all", a->all, "every process");
  logs.flag("--stdout", a->only_stdout, "only stdout");
  logs.flag("--stderr", a->only_stderr, "only stderr (printed on stdout)");
  logs.option("-n,--lines", a->tail,
              "only the last N lines (of the streams together; of each process)")
      .type_name("N");
  logs.flag("-f,--follow", a->follow,
            "keep printing new output until the process ends (every one of them)");
  logs.flag("-t,--timestamps", a->timestamps,
            "put each line's write time (RFC 3339, UTC) before it");
  logs.option("--since", a->since,
              "only output written since T: an RFC 3339 time or how long ago (10m)")
      .type_name("T");
  logs.option("--until", a->until, "only output written until T: an RFC 3339 time or how long ago")
      .type_name("T");
  logs.flag("--json", a->json, "print JSON events, one per line of output");
}

}  // namespace sbx::cli
