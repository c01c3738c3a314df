// sbx up --exit-from NAME: the output of every process of the project, as `sbx logs -f
// --session PROJECT` prints it (in write order, each line after its id), until NAME ends;
// then the project is stopped as by down.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/logs_args.hpp"
#include "cli/output.hpp"
#include "cli/project.hpp"
#include "cli/project_steps.hpp"
#include "cli/waiting.hpp"
#include "common/record_json.hpp"
#include "common/signal_names.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_records.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

std::mutex g_teardown;  // one teardown: the signal's or the end's
bool g_torn_down = false;
std::atomic<bool> g_interrupted{false};

/// How long the followers of the other processes get to print their last output after
/// the project was stopped.
constexpr auto kDrain = std::chrono::seconds(5);

/// The one follower of the project's output: the processes this `up` started (or found
/// running), which of them it printed to the end, and whether it returned. The record of
/// an earlier run of the project (down keeps them) is not followed: its id is taken only
/// once this `up` started its new run.
struct Follower {
  std::mutex m;
  std::condition_variable cv;
  bool started = false;
  bool over = false;
  std::set<std::string> ours;
  std::set<std::string> printed;
};
Follower g_follower;

}  // namespace

Result<int> teardown(const Project& p, std::optional<Millis> grace) {
  std::lock_guard lock(g_teardown);
  if (g_torn_down) return kExitOk;
  g_torn_down = true;
  return down_project(p.name, &p, grace);
}

bool interrupted() { return g_interrupted; }

void follow_output(const Project& p, const std::string& id) {
  Follower* f = &g_follower;
  std::size_t width = 0;
  for (const auto& def : p.processes) width = std::max(width, def.name.size());
  {
    std::lock_guard lock(f->m);
    f->ours.insert(id);
    if (f->started) return;
    f->started = true;
  }
  std::thread([f, session = p.name, width] {
    LogsArgs a;
    a.session = session;
    a.follow = true;
    proto::LogsRequest req;
    req.follow = true;
    req.timed = true;
    ManyHooks hooks;
    hooks.width = width;
    hooks.out = [](int fd, std::string_view bytes) { print_output(fd, std::string(bytes)); };
    hooks.take = [f](const std::string& id) {
      std::lock_guard lock(f->m);
      return f->ours.count(id) > 0;
    };
    hooks.on_end = [f](const std::string& id) {
      std::lock_guard lock(f->m);
      f->printed.insert(id);
      f->cv.notify_all();
    };
    run_logs_many(a, req, hooks);
    std::lock_guard lock(f->m);
    f->over = true;
    f->cv.notify_all();
  }).detach();
}

void stop_project_on_signals(const Project& p, std::optional<Millis> grace) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Blocked in every thread (they inherit it); the daemon sbx may start resets its mask.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([&p, grace, set] {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    g_interrupted = true;
    // The lock is held until sbx ends: a teardown asked for meanwhile waits for the end.
    g_teardown.lock();
    if (g_torn_down) return g_teardown.unlock();  // the end came first: its exit code stands
    g_torn_down = true;
    progress_line("sbx: " + signal_name(sig) + ": stopping project " + p.name);
    stop_starting();
    down_project(p.name, &p, grace);
    std::fflush(nullptr);
    ::_exit(128 + sig);
  }).detach();
}

Result<int> run_exit_from(const Project& p, const std::string& name, std::optional<Millis> grace) {
  auto client = Client::connect();
  if (!client) return client.error();
  proto::PsRequest ps;
  ps.session = p.name;
  ps.brief = true;
  auto v = client->call(proto::PsRequest::kOp, ps.to_json());
  if (!v) return v.error();
  if (v->is_array() && !v->get_array().empty()) follow_output(p, name);  // if up started none
  Follower* f = &g_follower;
  auto end = wait_for_end(name, std::nullopt);
  if (!end) {
    teardown(p, grace);
    return end.error();
  }
  int code = wait_exit_code(*end);
  {
    // NAME's output first, whole; then the others stop and say their last.
    std::unique_lock lock(f->m);
    f->cv.wait_for(lock, kDrain, [&] { return f->over || f->printed.count(name); });
  }
  auto down = teardown(p, grace);
  {
    std::unique_lock lock(f->m);
    f->cv.wait_for(lock, kDrain, [&] { return f->over; });
  }
  progress_line(name + ": ended (" + ended_how(*end) + "); exit " + std::to_string(code));
  if (!down) return down.error();
  return code;
}

}  // namespace sbx::cli
