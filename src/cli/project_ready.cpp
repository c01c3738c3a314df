// When a process of a project is ready: the waits of the daemon (wait-log, wait-port), or a
// command run through the daemon until it exits 0. And what a failure prints.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>

#include "cli/client.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/project.hpp"
#include "cli/project_steps.hpp"
#include "cli/wait_ready.hpp"
#include "cli/waiting.hpp"
#include "common/record_json.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_records.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

/// A ready wait's answer, without the reply it carries.
Status only_status(const Result<boost::json::value>& r) {
  if (!r) return r.error();
  return ok_status();
}
using Clock = std::chrono::steady_clock;
std::mutex g_print;  // whole lines from several threads, and the status line
Progress* g_status = nullptr;

Millis left_until(Clock::time_point t) {
  return std::max(Millis(0), std::chrono::duration_cast<Millis>(t - Clock::now()));
}

/// Runs `exec` through the daemon (its own session, removed once waited for) in the
/// process's folder and environment until it exits 0, while the process lives.
Status wait_exec(const Project& p, const ProcessDef& d, const proto::StartRequest& of,
                 Millis limit) {
  auto until = Clock::now() + limit;
  std::string last = "it never ran";
  for (;;) {
    proto::StartRequest probe;
    probe.shell_line = d.ready.exec;
    probe.cwd = of.cwd;
    probe.env = of.env;
    probe.base_env = of.base_env;
    probe.remote = of.remote;
    probe.session = p.name + kProbeSessionSuffix;
    probe.auto_cleanup = true;
    auto client = Client::connect();
    if (!client) return client.error();
    auto started = client->call(proto::StartRequest::kOp, probe.to_json());
    if (!started) return started.error();
    auto rec = record_from_json(*started);
    if (!rec) return rec.error();
    auto ended = wait_for_end(rec->id, left_until(until));
    if (!ended && ended.error().code != Errc::timeout) return ended.error();
    if (!ended) {  // the time is up: the command goes too
      proto::KillRequest kill;
      kill.ids = {rec->id};
      if (auto c = Client::connect()) c->call(proto::KillRequest::kOp, kill.to_json());
    }
    if (ended) {
      int code = wait_exit_code(*ended);
      if (code == 0) return ok_status();
      last = "the last one exited " + std::to_string(code);
    } else {
      last = "the last one still ran";
    }
    auto self = find_record(d.name);
    if (self && *self && (*self)->ended())
      return make_error(Errc::failed,
                        "'" + d.name + "' ended (" + ended_how(**self) + ") before it was ready");
    if (left_until(until) <= Millis(0)) break;
    std::this_thread::sleep_for(std::min(d.ready.interval, left_until(until)));
    if (left_until(until) <= Millis(0)) break;
  }
  return make_error(Errc::timeout, "'" + d.ready.exec + "' did not exit 0 within " +
                                       format_duration(limit) + " (" + last + ")");
}

}  // namespace

void progress_line(const std::string& line) {
  std::lock_guard lock(g_print);
  if (g_status) g_status->clear();
  write_out(2, line + "\n");
}

void set_status(Progress* status) {
  std::lock_guard lock(g_print);
  if (g_status) g_status->clear();
  g_status = status;
}

void tick_status(const std::string& waiting_for) {
  std::lock_guard lock(g_print);
  if (!g_status) return;
  if (waiting_for.empty()) return g_status->clear();
  g_status->set_what(waiting_for);
  if (auto tick = g_status->ticker()) tick();
}

void print_output(int fd, const std::string& lines) {
  std::lock_guard lock(g_print);
  if (g_status) g_status->clear();
  emit(fd, lines);
}

Result<std::optional<ProcessRecord>> find_record(const std::string& id) {
  auto client = Client::connect();
  if (!client) return client.error();
  proto::ShowRequest req;
  req.id = id;
  auto v = client->call(proto::ShowRequest::kOp, req.to_json());
  if (!v) {
    if (v.error().code == Errc::not_found) return std::optional<ProcessRecord>();
    return v.error();
  }
  auto rec = record_from_json(*v);
  if (!rec) return rec.error();
  return std::optional<ProcessRecord>(std::move(*rec));
}

Result<ProcessRecord> wait_for_end(const std::string& id, std::optional<Millis> limit) {
  proto::WaitRequest req;
  req.id = id;
  req.deadline.timeout = limit;
  auto make = [&req](bool, const proto::Deadline& deadline) {
    auto r = req;
    r.deadline = deadline;
    return r.to_json();
  };
  WaitingCall call(proto::WaitRequest::kOp, limit, make, {});
  auto v = call.run();
  if (!v) return v.error();
  return record_from_json(*v);
}

std::string ended_how(const ProcessRecord& r) {
  if (r.error) return "could not start: " + *r.error;
  if (r.signal) return "killed by " + *r.signal;
  if (r.exit_code) return "exit " + std::to_string(*r.exit_code);
  return status_name(r.status);
}

Status wait_until_ready(const Project& p, const ProcessDef& d, const proto::StartRequest& req,
                        Millis limit) {
  const ReadySpec& r = d.ready;
  switch (r.kind) {
    case ReadySpec::Kind::none:
      return ok_status();
    case ReadySpec::Kind::log: {
      proto::WaitLogRequest w;
      w.id = d.name;
      w.pattern = r.log;
      w.regex = r.regex;
      w.deadline.timeout = limit;
      return only_status(await_ready(w));
    }
    case ReadySpec::Kind::port: {
      proto::WaitPortRequest w;
      w.id = d.name;
      w.port = r.port;
      w.hosts.assign(std::begin(proto::kDefaultProbeHosts), std::end(proto::kDefaultProbeHosts));
      w.http_path = r.http;
      w.status_lo = r.status_lo;
      w.status_hi = r.status_hi;
      w.deadline.timeout = limit;
      return only_status(await_ready(w));
    }
    case ReadySpec::Kind::exec:
      return wait_exec(p, d, req, limit);
  }
  return ok_status();
}

}  // namespace sbx::cli
