// daemon status, daemon stop: these never start a daemon.

#include <signal.h>
#include <time.h>

#include <boost/json/object.hpp>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/duration.hpp"
#include "common/proc.hpp"
#include "proto/message.hpp"

namespace sbx::cli {
namespace json = boost::json;


int run_daemon_status(const DaemonArgs& a) {
  auto client = Client::connect(false);
  if (!client) return report(client.error());
  auto v = client->call("daemon_status", {});
  if (!v) return report(v.error());
  if (a.json) {
    print_json(*v);
    return kExitOk;
  }
  const auto& o = v->as_object();
  auto num = [&](const char* k) { return proto::get_opt_int(o, k).value_or(0); };
  const auto& counts = o.at("processes").as_object();
  std::string out;
  out += "pid:        " + std::to_string(num("pid")) + "\n";
  out += "version:    " + proto::get_opt_string(o, "version").value_or("?") + " (protocol " +
         std::to_string(num("protocol")) + ")\n";
  out += "uptime:     " + format_duration(Millis(num("uptime_ms"))) + " (since " +
         proto::get_opt_string(o, "started").value_or("?") + ")\n";
  out += "socket:     " + proto::get_opt_string(o, "socket").value_or("?") + "\n";
  out += "state:      " + proto::get_opt_string(o, "state_dir").value_or("?") + "\n";
  out += "processes:  " + std::to_string(proto::get_opt_int(counts, "total").value_or(0)) + " (" +
         std::to_string(proto::get_opt_int(counts, "running").value_or(0)) + " running)\n";
  write_out(1, out);
  return kExitOk;
}

namespace {

/// Waits (at most 5 s) until the process with this pid is gone.
void wait_gone(std::optional<std::int64_t> pid) {
  for (int i = 0; pid && i < 1000 && process_alive(static_cast<pid_t>(*pid)); ++i) {
    timespec ts{0, 5'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

}  // namespace

int run_daemon_restart(const DaemonArgs&) {
  if (auto client = Client::connect(false)) {
    auto status = client->call("daemon_status", {});
    auto detacher = Client::connect(false);
    if (!detacher) return report(detacher.error());
    auto v = detacher->call("daemon_detach", {});
    if (!v) return report(v.error());
    if (status && status->is_object()) wait_gone(proto::get_opt_int(status->get_object(), "pid"));
  }
  // The new daemon adopts every process the old one left running.
  auto fresh = Client::connect(true);
  if (!fresh) return report(fresh.error());
  auto v = fresh->call("daemon_status", {});
  if (!v) return report(v.error());
  return kExitOk;
}

int run_daemon_stop(const DaemonArgs&) {
  auto client = Client::connect(false);
  if (!client) {
    std::fprintf(stderr, "sbx: no daemon is running\n");
    return kExitOk;
  }
  auto status = client->call("daemon_status", {});
  auto stopper = Client::connect(false);
  if (!stopper) return report(stopper.error());
  auto v = stopper->call("daemon_stop", {});
  if (!v) return report(v.error());
  // Return once the daemon process is gone, so a script can start a fresh one at once.
  if (status && status->is_object()) wait_gone(proto::get_opt_int(status->get_object(), "pid"));
  return kExitOk;
}

}  // namespace sbx::cli
