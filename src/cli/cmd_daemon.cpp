// daemon status, daemon stop: these never start a daemon.

#include <signal.h>
#include <time.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/host.hpp"
#include "cli/output.hpp"
#include "common/duration.hpp"
#include "common/proc.hpp"
#include "proto/requests_daemon.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct DaemonArgs {
  bool json = false;
  bool quiet = false;  ///< stop: print no ids
};

Result<int> run_daemon_status(const DaemonArgs& a) {
  auto client = Client::connect(false);
  if (!client) return client.error();
  auto v = client->call(proto::DaemonStatusRequest::kOp, {});
  if (!v) return v.error();
  const auto& host = target_host();  // connect() checked it
  if (a.json) {
    json::value out = *v;
    if (auto* o = out.if_object()) (*o)["host"] = host->url();
    print_json(out);
    return kExitOk;
  }
  auto o = proto::DaemonStatusReply::from_json(*v);
  std::string out;
  out += "host:       " + host->url() + "\n";
  out += "pid:        " + std::to_string(o.pid) + "\n";
  out += "version:    " + o.version + " (protocol " + std::to_string(o.protocol) + ")\n";
  out += "uptime:     " + format_duration(Millis(o.uptime_ms)) + " (since " + o.started + ")\n";
  out += "socket:     " + o.socket + "\n";
  out += "state:      " + o.state_dir + "\n";
  out +=
      "processes:  " + std::to_string(o.total) + " (" + std::to_string(o.running) + " running)\n";
  out += "proxy:      " +
         (o.proxy_listening ? "port " + std::to_string(o.proxy_port) + ", " +
                                  std::to_string(o.exposed) + " exposed"
                            : "not listening (nothing exposed)") +
         "\n";
  out += "tree:       " + o.tree + (o.cgroup.empty() ? "" : " (" + o.cgroup + ")") + "\n";
  write_out(1, out);
  return kExitOk;
}

/// Waits (at most 5 s) until the process with this pid is gone; on another host, whose pids
/// mean nothing here, until its daemon no longer answers.
void wait_gone(std::int64_t pid) {
  if (talking_to_remote()) {
    for (int i = 0; i < 100 && Client::connect(false); ++i) {
      timespec ts{0, 50'000'000};
      ::nanosleep(&ts, nullptr);
    }
    return;
  }
  for (int i = 0; pid > 0 && i < 1000 && process_alive(static_cast<pid_t>(pid)); ++i) {
    timespec ts{0, 5'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

Result<int> run_daemon_restart(const DaemonArgs&) {
  if (auto client = Client::connect(false)) {
    auto status = client->call(proto::DaemonStatusRequest::kOp, {});
    auto detacher = Client::connect(false);
    if (!detacher) return detacher.error();
    auto v = detacher->call(proto::DaemonDetachRequest::kOp, {});
    if (!v) return v.error();
    if (status && status->is_object()) wait_gone(proto::DaemonStatusReply::from_json(*status).pid);
  }
  // The new daemon adopts every process the old one left running.
  auto fresh = Client::connect(true);
  if (!fresh) return fresh.error();
  auto v = fresh->call(proto::DaemonStatusRequest::kOp, {});
  if (!v) return v.error();
  return kExitOk;
}

Result<int> run_daemon_stop(const DaemonArgs& a) {
  auto client = Client::connect(false);
  if (!client && !Client::no_daemon(client.error())) return client.error();
  if (!client) {
    std::fprintf(stderr, "sbx: no daemon is running\n");
    return kExitOk;
  }
  auto status = client->call(proto::DaemonStatusRequest::kOp, {});
  auto stopper = Client::connect(false);
  if (!stopper) return stopper.error();
  auto v = stopper->call(proto::DaemonStopRequest::kOp, {});
  if (!v) return v.error();
  // Return once the daemon process is gone, so a script can start a fresh one at once.
  if (status && status->is_object()) wait_gone(proto::DaemonStatusReply::from_json(*status).pid);
  // The ids it stopped, one a line (as `sbx kill --all`).
  if (!a.quiet) {
    std::string out;
    for (const auto& id : proto::DaemonStopReply::from_json(*v).ids) out += id + "\n";
    write_out(1, out);
  }
  return kExitOk;
}

}  // namespace

void define_daemon(CommandDef& parent) {
  auto a = std::make_shared<DaemonArgs>();
  auto daemon = parent.add("daemon", "About the daemon: status, stop, restart",
                           "sbx daemon status|stop|restart [OPTIONS]",
                           "sbx daemon status --json\n  sbx daemon stop\n  sbx daemon restart");
  daemon.require_subcommand();
  auto status = daemon.add("status", "Show the daemon's pid, uptime, socket and counts",
                           "sbx daemon status [OPTIONS]", "sbx daemon status --json");
  status.runs([a] { return run_daemon_status(*a); });
  status.flag("--json", a->json, "print JSON");
  auto stop =
      daemon.add("stop", "Stop every process gracefully, then the daemon; print the ids stopped",
                 "sbx daemon stop [OPTIONS]", "sbx daemon stop");
  stop.runs([a] { return run_daemon_stop(*a); });
  stop.flag("-q,--quiet", a->quiet, "print no ids");
  daemon
      .add("restart", "Replace the daemon (after an upgrade) without stopping any process",
           "sbx daemon restart", "sbx daemon restart")
      .runs([a] { return run_daemon_restart(*a); });
}

}  // namespace sbx::cli
