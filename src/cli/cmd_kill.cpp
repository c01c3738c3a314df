// kill: stop processes, or send them a signal.

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "common/signal_names.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {

namespace {

struct KillArgs {
  std::vector<std::string> ids;
  std::string signal;  ///< empty: stop with kStopSignal
  std::string grace;   ///< empty: kStopGrace
  bool no_wait = false;
  bool all = false;
  bool quiet = false;  ///< --all: do not print the ids stopped
  std::string session;
};

Result<int> run_kill(const KillArgs& a) {
  if (a.ids.empty() && !a.all)
    return make_error(Errc::usage, "name the processes to kill (sbx kill ID...) or use --all");
  if (!a.ids.empty() && a.all) return make_error(Errc::usage, "give ids or --all, not both");
  if (!a.session.empty() && !a.all) return make_error(Errc::usage, "--session goes with --all");
  proto::KillRequest req;
  req.ids = a.ids;
  req.all = a.all;
  // --all stops the caller's session when SBX_SESSION says which: a CI job that sets it
  // never stops another job's processes by accident.
  std::string session = a.session;
  if (a.all && session.empty()) {
    if (const char* s = std::getenv("SBX_SESSION"); s && *s) session = s;
  }
  if (!session.empty()) req.session = session;
  if (!a.signal.empty()) {
    auto s = parse_signal(a.signal);
    if (!s) return s.error();
    req.signal = *s;
  }
  if (!a.grace.empty()) {
    auto g = parse_duration(a.grace);
    if (!g) return g.error();
    req.grace = *g;
  }
  // Without -s: stop (TERM, wait, KILL after the grace). With -s: deliver and return,
  // unless --grace asks to wait and escalate.
  req.stop = a.signal.empty() || !a.grace.empty();
  req.wait = req.stop && !a.no_wait;
  auto args = proto::checked_json(req);
  if (!args) return args.error();

  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::KillRequest::kOp, std::move(*args));
  if (!v) return v.error();
  auto reply = proto::KillReply::from_json(std::move(*v));
  const std::vector<std::string>& already = reply.already_ended;
  for (const auto& id : already) std::fprintf(stderr, "sbx: '%s' had already ended\n", id.c_str());
  // --all names what it stopped, one id a line (as `docker kill` does).
  if (a.all && !a.quiet) {
    std::string out;
    for (const auto& r : reply.records) {
      const auto* id = r.is_object() ? r.get_object().if_contains("id") : nullptr;
      if (!id || !id->is_string()) continue;
      if (std::find(already.begin(), already.end(), id->get_string()) == already.end()) {
        out += std::string(id->get_string()) + "\n";
      }
    }
    write_out(1, out);
  }
  return kExitOk;
}

}  // namespace

void define_kill(CommandDef& parent) {
  auto a = std::make_shared<KillArgs>();
  auto kill =
      parent.add("kill", "Stop processes: TERM to the tree, KILL after the grace",
                 "sbx kill [OPTIONS] ID...\n       sbx kill [OPTIONS] --all [--session SESSION]",
                 "sbx kill web --grace 2s\n  sbx kill web -s HUP\n  sbx kill --all    (prints the "
                 "ids it stopped)");
  kill.runs([a] { return run_kill(*a); });
  kill.option("ids", a->ids, "process ids").type_name("ID");
  kill.option("-s,--signal", a->signal, "send this signal and return (TERM, HUP, 9, ...)")
      .type_name("SIGNAL");
  kill.option("--grace", a->grace, "time before SIGKILL (default 10s)").type_name("DURATION");
  kill.flag("--no-wait", a->no_wait, "return once the signal is sent");
  kill.flag("--all", a->all, "every live process; print the ids stopped, one a line");
  kill.flag("-q,--quiet", a->quiet, "with --all: print no ids");
  kill.option("--session", a->session, "with --all: only this session").type_name("SESSION");
}

}  // namespace sbx::cli
