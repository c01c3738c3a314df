#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "cli/waiting.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"

namespace sbx::cli {
namespace json = boost::json;

int run_wait(const WaitArgs& a) {
  if (auto st = check_id(a.id); !st) return report(st.error());
  json::object args;
  args["id"] = a.id;
  if (!a.timeout.empty()) {
    auto d = parse_duration(a.timeout);
    if (!d) return report(d.error());
    args["timeout_ms"] = d->count();
  }
  auto client = Client::connect();
  if (!client) return report(client.error());
  Progress progress(a.id + " to end");
  WaitingCall::Hooks hooks;
  hooks.on_tick = progress.ticker();
  WaitingCall call("wait", std::move(args), std::move(hooks));
  auto v = call.run(std::move(*client));
  progress.clear();
  if (!v) return call.fail(v.error());
  auto r = record_from_json(*v);
  if (!r) return report(r.error());
  return wait_exit_code(*r);
}

}  // namespace sbx::cli
