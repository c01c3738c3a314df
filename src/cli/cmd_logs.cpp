#include <boost/json/object.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "common/utf8.hpp"
#include "proto/bytes.hpp"
#include "proto/protocol.hpp"

namespace sbx::cli {
namespace json = boost::json;

int run_logs(const LogsArgs& a) {
  if (auto st = check_id(a.id); !st) return report(st.error());
  if (a.only_stdout && a.only_stderr) return report_usage("give --stdout or --stderr, not both");
  if (a.tail && *a.tail < 0) return report_usage("-n takes a number of lines, 0 or more");
  json::object args;
  args["id"] = a.id;
  args["stdout"] = !a.only_stderr;
  args["stderr"] = !a.only_stdout;
  if (a.tail) args["tail"] = *a.tail;
  if (a.follow) args["follow"] = true;

  auto client = Client::connect();
  if (!client) return report(client.error());
  Utf8Sanitizer clean[2];
  auto on_data = [&](std::uint8_t stream, std::string_view bytes) {
    bool is_err = stream == proto::kStreamStderr;
    if (!a.json) {
      write_out(is_err ? 2 : 1, bytes);
      return;
    }
    json::object ev;
    ev["type"] = is_err ? "stderr" : "stdout";
    ev["data"] = clean[is_err ? 1 : 0].feed(bytes);
    ev["time"] = format_rfc3339(now_epoch_ms());
    print_json(ev);
  };
  auto v = client->stream("logs", std::move(args), on_data);
  if (!v) return report(v.error());
  if (a.json) {
    auto r = record_from_json(*v);
    if (r && r->ended()) {
      json::object ev;
      ev["type"] = "exit";
      ev["status"] = status_name(r->status);
      if (r->exit_code) ev["exit_code"] = *r->exit_code;
      if (r->signal) ev["signal"] = *r->signal;
      if (r->error) ev["error"] = proto::bytes_to_json(*r->error);
      print_json(ev);
    }
  }
  return kExitOk;
}

}  // namespace sbx::cli
