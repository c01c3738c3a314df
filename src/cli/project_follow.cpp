// sbx up --exit-from NAME: the output of every process of the project, each line prefixed
// "NAME | ", until NAME ends; then the project is stopped as by down. One follower per
// process: lines of different processes appear in the order their bytes reach sbx (each
// process's own lines in their order), which for lines written within a few milliseconds
// of each other need not be the order they were written in.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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

/// Lines of one process, prefixed; a last line without its newline is printed at the end.
class Prefixer {
 public:
  explicit Prefixer(std::string name) : prefix_(std::move(name) + " | ") {}
  void feed(int k, std::string_view bytes) {
    pending_[k].append(bytes);
    std::string out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_[k].find('\n', start)) != std::string::npos; start = nl + 1)
      out += prefix_ + pending_[k].substr(start, nl + 1 - start);
    pending_[k].erase(0, start);
    if (!out.empty()) print_output(k == 1 ? 2 : 1, out);
  }
  void finish() {
    for (int k = 0; k < 2; ++k) {
      if (!pending_[k].empty()) print_output(k == 1 ? 2 : 1, prefix_ + pending_[k] + "\n");
      pending_[k].clear();
    }
  }

 private:
  std::string prefix_;
  std::string pending_[2];
};

struct Followers {
  std::mutex m;
  std::condition_variable cv;
  std::set<std::string> running;
  std::set<std::string> seen;
};
Followers g_followers;

void follow(const std::string& id, Followers* f) {
  Prefixer out(id);
  proto::LogsRequest req;
  req.id = id;
  req.follow = true;
  std::int64_t at[2] = {0, 0};
  bool known = false;
  WaitingCall::Hooks hooks;
  hooks.on_data = [&](std::uint8_t stream, std::string_view bytes) {
    int k = stream == proto::kStreamStderr ? 1 : 0;
    at[k] += static_cast<std::int64_t>(bytes.size());
    out.feed(k, bytes);
  };
  hooks.on_event = [&](const json::value& ev) {
    auto o = proto::read_offsets_event(ev, proto::kOffsetsEvent);
    if (!o) return;
    for (int k = 0; k < 2; ++k) {
      if (o->at[k]) at[k] = *o->at[k];
    }
    known = true;
  };
  auto make = [&](bool resumed, const proto::Deadline&) {
    auto r = req;
    if (resumed && known) {
      r.from.at[0] = at[0];
      r.from.at[1] = at[1];
    }
    return r.to_json();
  };
  WaitingCall call(proto::LogsRequest::kOp, std::nullopt, make, std::move(hooks));
  call.run();
  out.finish();
  std::lock_guard lock(f->m);
  f->running.erase(id);
  f->cv.notify_all();
}

}  // namespace

Result<int> teardown(const Project& p, std::optional<Millis> grace) {
  std::lock_guard lock(g_teardown);
  if (g_torn_down) return kExitOk;
  g_torn_down = true;
  return down_project(p.name, &p, grace);
}

bool interrupted() { return g_interrupted; }

void follow_output(const std::string& id) {
  {
    std::lock_guard lock(g_followers.m);
    if (!g_followers.seen.insert(id).second) return;
    g_followers.running.insert(id);
  }
  std::thread([id] { follow(id, &g_followers); }).detach();
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
  // Those `up` started are followed since; any other of the project from now on.
  if (v->is_array()) {
    for (const auto& r : v->get_array()) {
      if (auto rec = record_from_json(r)) follow_output(rec->id);
    }
  }
  Followers* f = &g_followers;
  auto end = wait_for_end(name, std::nullopt);
  if (!end) {
    teardown(p, grace);
    return end.error();
  }
  int code = wait_exit_code(*end);
  {
    // NAME's output first, whole; then the others stop and say their last.
    std::unique_lock lock(f->m);
    f->cv.wait_for(lock, kDrain, [&] { return !f->running.count(name); });
  }
  auto down = teardown(p, grace);
  {
    std::unique_lock lock(f->m);
    f->cv.wait_for(lock, kDrain, [&] { return f->running.empty(); });
  }
  progress_line(name + ": ended (" + ended_how(*end) + "); exit " + std::to_string(code));
  if (!down) return down.error();
  return code;
}

}  // namespace sbx::cli
