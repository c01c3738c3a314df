// wait: wait for a process to end; exit with its exit code.

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
#include "cli/waiting.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct WaitArgs {
  std::string id;
  std::string timeout;  ///< empty: wait forever
};

Result<int> run_wait(const WaitArgs& a) {
  if (auto st = check_id(a.id); !st) return st.error();
  proto::WaitRequest req;
  req.id = a.id;
  std::optional<Millis> timeout;
  if (!a.timeout.empty()) {
    auto d = parse_duration(a.timeout);
    if (!d) return d.error();
    timeout = *d;
  }
  auto client = Client::connect();
  if (!client) return client.error();
  Progress progress(a.id + " to end");
  WaitingCall::Hooks hooks;
  hooks.on_tick = progress.ticker();
  auto make = [&req](bool, const proto::Deadline& deadline) {
    auto r = req;
    r.deadline = deadline;
    return r.to_json();
  };
  WaitingCall call(proto::WaitRequest::kOp, timeout, make, std::move(hooks));
  auto v = call.run(std::move(*client));
  progress.clear();
  if (!v) return call.fail(v.error());
  auto r = record_from_json(*v);
  if (!r) return r.error();
  return wait_exit_code(*r);
}

}  // namespace

void define_wait(CommandDef& parent) {
  auto a = std::make_shared<WaitArgs>();
  auto wait = parent.add("wait", "Wait for a process to end; exit with its exit code",
                         "sbx wait [OPTIONS] ID",
                         "sbx wait build --timeout 10m; echo \"build exited with $?\"");
  wait.runs([a] { return run_wait(*a); });
  wait.option("id", a->id, "process id").required().type_name("ID");
  wait.option("--timeout", a->timeout, "give up after this long (exit 124), e.g. 30s, 5m")
      .type_name("DURATION");
}

}  // namespace sbx::cli
