#include <boost/json/array.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "common/signal_names.hpp"
#include "proto/bytes.hpp"

namespace sbx::cli {
namespace json = boost::json;

int run_kill(const KillArgs& a) {
  if (a.ids.empty() && !a.all) return report_usage("name the processes to kill (sbx kill ID...) or use --all");
  if (!a.ids.empty() && a.all) return report_usage("give ids or --all, not both");
  if (!a.session.empty() && !a.all) return report_usage("--session goes with --all");
  json::object args;
  json::array ids;
  for (const auto& id : a.ids) {
    if (auto st = check_id(id); !st) return report(st.error());
    ids.emplace_back(id);
  }
  args["ids"] = std::move(ids);
  if (a.all) args["all"] = true;
  // --all stops the caller's session when SBX_SESSION says which: a CI job that sets it
  // never stops another job's processes by accident.
  std::string session = a.session;
  if (a.all && session.empty()) {
    if (const char* s = std::getenv("SBX_SESSION"); s && *s) session = s;
  }
  if (!session.empty()) args["session"] = proto::bytes_to_json(session);
  int sig = 15;
  if (!a.signal.empty()) {
    auto s = parse_signal(a.signal);
    if (!s) return report(s.error());
    sig = *s;
  }
  args["signal"] = sig;
  if (!a.grace.empty()) {
    auto g = parse_duration(a.grace);
    if (!g) return report(g.error());
    args["grace_ms"] = g->count();
  }
  // Without -s: stop (TERM, wait, KILL after the grace). With -s: deliver and return,
  // unless --grace asks to wait and escalate.
  bool stop = a.signal.empty() || !a.grace.empty();
  args["stop"] = stop;
  args["wait"] = stop && !a.no_wait;

  auto client = Client::connect();
  if (!client) return report(client.error());
  auto v = client->call("kill", std::move(args));
  if (!v) return report(v.error());
  const auto* ended = v->is_object() ? v->get_object().if_contains("already_ended") : nullptr;
  if (ended && ended->is_array()) {
    for (const auto& e : ended->get_array()) {
      if (e.is_string()) std::fprintf(stderr, "sbx: '%s' had already ended\n", std::string(e.get_string()).c_str());
    }
  }
  return kExitOk;
}

}  // namespace sbx::cli
