// sbx up: each process starts once the conditions of its dependencies hold, independent
// ones at the same time (one thread each); `up` returns once every one is ready. A failure
// ends `up` at once: what depends on the process that failed is never started, and
// nothing is waited for that can no longer come.

#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/last_lines.hpp"
#include "cli/progress.hpp"
#include "cli/project.hpp"
#include "cli/project_steps.hpp"
#include "common/record_json.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {
namespace {
using Clock = std::chrono::steady_clock;

// A start request, or giving up: once `up` gave up (or a signal stops the project),
// nothing more starts, and a start on its way is answered first (a `down` after it sees all).
std::mutex g_gate;
bool g_abandoned = false;

enum class State { waiting, starting, started, ready, completed, failed };

struct Node {
  const ProcessDef* def = nullptr;
  proto::StartRequest req;
  bool needs_exit = false;  ///< a dependent waits for it to complete
  State state = State::waiting;
  Error why;                 ///< when failed
  bool print_lines = false;  ///< when failed: its output tells why
};

bool holds(State s, DependsOn c) {
  switch (c) {
    case DependsOn::started:
      return s == State::started || s == State::ready || s == State::completed;
    case DependsOn::ready:
      return s == State::ready || s == State::completed;
    case DependsOn::completed:
      return s == State::completed;
  }
  return false;
}

std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs",
                std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0);
  return buf;
}

class Up : public std::enable_shared_from_this<Up> {
 public:
  Up(const Project& p, std::vector<Node> nodes, const UpOptions& o)
      : p_(p),
        nodes_(std::move(nodes)),
        timeout_(o.timeout),
        on_started_(o.on_started),
        exit_from_(o.exit_from) {}

  int run() {
    // On a terminal, a status line says what is still awaited, redrawn every tick.
    std::optional<Progress> status;
    if (progress_enabled(2)) set_status(&status.emplace(""));
    struct Unset {
      ~Unset() { set_status(nullptr); }
    } unset;
    auto t0 = Clock::now();
    std::unique_lock lock(m_);
    for (;;) {
      launch_ready_ones();
      if (auto* failed = first_failed()) return fail(*failed, lock);
      if (all_done()) {
        lock.unlock();
        Node* gone = ended_unready();
        lock.lock();
        return gone ? fail(*gone, lock) : kExitOk;
      }
      if (status || timeout_) {
        auto next =
            status ? Clock::now() + std::chrono::milliseconds(Client::kTickMs) : t0 + *timeout_;
        if (timeout_) next = std::min(next, t0 + *timeout_);
        cv_.wait_until(lock, next);
      } else {
        cv_.wait(lock);
      }
      if (timeout_ && Clock::now() >= t0 + *timeout_ && !all_done() && !first_failed())
        return time_out(lock);
      if (status) {
        std::string what = pending();
        lock.unlock();
        tick_status(what);
        lock.lock();
      }
    }
  }

  /// "db (ready), api", what the status line waits for.
  std::string pending() {
    std::string what;
    for (const auto& n : nodes_) {
      if (n.state == State::completed || (n.state == State::ready && !n.needs_exit)) continue;
      what += (what.empty() ? "" : ", ") + n.def->name;
      if (n.state == State::started) what += " (ready)";
      if (n.state == State::ready) what += " (completed)";
    }
    return what;
  }

 private:
  Node* node(const std::string& name) {
    for (auto& n : nodes_) {
      if (n.def->name == name) return &n;
    }
    return nullptr;
  }

  void launch_ready_ones() {
    for (auto& n : nodes_) {
      if (n.state != State::waiting) continue;
      bool go = true;
      for (const auto& dep : n.def->depends_on)
        go = go && holds(node(dep.name)->state, dep.condition);
      if (!go) continue;
      n.state = State::starting;
      // Detached: a failure elsewhere ends `up` without waiting for this one (main _exits).
      std::thread([self = shared_from_this(), &n] { self->work(n); }).detach();
    }
  }

  Node* first_failed() {
    for (auto& n : nodes_) {
      if (n.state == State::failed) return &n;
    }
    return nullptr;
  }

  bool all_done() {
    for (const auto& n : nodes_) {
      if (n.state != (n.needs_exit ? State::completed : State::ready) &&
          n.state != State::completed)
        return false;
    }
    return true;
  }

  void set(Node& n, State s) {
    std::lock_guard lock(m_);
    n.state = s;
    cv_.notify_all();
  }
  void failed(Node& n, Error why, bool print_lines) {
    std::lock_guard lock(m_);
    n.state = State::failed;
    n.why = std::move(why);
    n.print_lines = print_lines;
    cv_.notify_all();
  }

  /// Whether a live process of this id may be replaced, left alone, or is someone else's.
  enum class Existing { none, unchanged, changed };
  Result<Existing> existing(const Node& n) {
    auto rec = find_record(n.def->name);
    if (!rec) return rec.error();
    if (!*rec || (*rec)->ended()) return Existing::none;
    const ProcessRecord& r = **rec;
    if (r.session != p_.name || r.definition.empty()) {
      std::string whose = r.definition.empty() ? "was started by hand (session '" + r.session + "')"
                                               : "belongs to project '" + r.session + "'";
      return make_error(Errc::conflict, "'" + r.id + "' is running and " + whose +
                                            ": stop it (sbx kill " + r.id +
                                            ") or rename the process in " + p_.file);
    }
    return r.definition == n.req.definition ? Existing::unchanged : Existing::changed;
  }

  void work(Node& n) {
    const std::string& name = n.def->name;
    auto t0 = Clock::now();
    auto ex = existing(n);
    if (!ex) return failed(n, ex.error(), false);
    if (*ex == Existing::unchanged) {
      progress_line(name + ": running (unchanged)");
    } else {
      std::lock_guard gate(g_gate);
      if (g_abandoned) return;
      if (*ex == Existing::changed) {
        progress_line(name + ": changed: restarting");
        proto::KillRequest kill;
        kill.ids = {name};
        auto client = Client::connect();
        if (!client) return failed(n, client.error(), false);
        if (auto v = client->call(proto::KillRequest::kOp, kill.to_json()); !v)
          return failed(n, v.error(), false);
      }
      auto client = Client::connect();  // one request a connection
      if (!client) return failed(n, client.error(), false);
      auto v = client->call(proto::StartRequest::kOp, n.req.to_json());
      if (!v)
        return failed(n, make_error(v.error().code, "cannot start: " + v.error().message), false);
      progress_line(name + ": started");
    }
    if (on_started_) on_started_(name);
    set(n, State::started);
    Millis limit = n.def->ready.timeout;
    if (n.def->ready.kind != ReadySpec::Kind::none) {
      if (auto st = wait_until_ready(p_, *n.def, n.req, limit); !st)
        return failed(n, st.error(), st.error().code != Errc::timeout);
      progress_line(name + ": ready in " + seconds(Clock::now() - t0));
    }
    set(n, State::ready);
    if (!n.needs_exit) return;
    auto end = wait_for_end(name, std::nullopt);
    if (!end) return failed(n, end.error(), false);
    if (wait_exit_code(*end) != 0)
      return failed(n,
                    make_error(Errc::failed, "'" + name + "' did not complete: it ended (" +
                                                 ended_how(*end) + ")"),
                    true);
    progress_line(name + ": completed in " + seconds(Clock::now() - t0));
    set(n, State::completed);
  }

  /// A process that is up when it runs (no completion awaited) and that has already ended
  /// otherwise than by completing, with no restart to come: `up` must not say all is up (a
  /// server that exits 1 at once, its port taken). It is marked failed. Not --exit-from's
  /// process: its end, however early, is the answer.
  Node* ended_unready() {
    for (auto& n : nodes_) {
      if (n.needs_exit || n.state != State::ready || n.def->name == exit_from_) continue;
      auto rec = find_record(n.def->name);
      if (!rec || !*rec) continue;
      const ProcessRecord& r = **rec;
      if (!r.ended() || r.status == ProcStatus::completed || r.restart == "always" ||
          r.restart == "on-failure")
        continue;
      failed(n, make_error(Errc::failed, "it ended before all was up (" + ended_how(r) + ")"),
             true);
      return &n;
    }
    return nullptr;
  }

  /// Names what was not started yet: what depends on `failed`, and what waited for
  /// something else (`up` ends here, so none of them starts).
  std::string not_started(const Node& failed) {
    std::string names;
    for (const auto& n : nodes_) {
      if (n.state == State::waiting && &n != &failed)
        names += (names.empty() ? "" : ", ") + n.def->name;
    }
    return names;
  }

  int fail(Node& n, std::unique_lock<std::mutex>& lock) {
    Error why = n.why;
    bool lines = n.print_lines;
    std::string skipped = not_started(n);
    lock.unlock();
    stop_starting();
    set_status(nullptr);
    if (interrupted()) return kExitFailed;
    std::string msg = n.def->name + ": " + why.message;
    if (!skipped.empty()) msg += "; not started: " + skipped;
    int code = report(Error{why.code, msg});
    if (lines) print_last_lines(n.def->name);
    return code;
  }

  int time_out(std::unique_lock<std::mutex>& lock) {
    std::string what;
    for (const auto& n : nodes_) {
      if (n.state == State::ready && !n.needs_exit) continue;
      if (n.state == State::completed) continue;
      const char* how = n.state == State::waiting    ? "not started"
                        : n.state == State::starting ? "starting"
                        : n.state == State::started  ? "not ready"
                                                     : "not completed";
      what += (what.empty() ? "" : ", ") + n.def->name + " (" + how + ")";
    }
    lock.unlock();
    stop_starting();
    set_status(nullptr);
    if (interrupted()) return kExitFailed;
    return report(make_error(
        Errc::timeout, "not ready after " + format_duration(*timeout_) + " (--timeout): " + what));
  }

  const Project& p_;
  std::vector<Node> nodes_;
  std::optional<Millis> timeout_;
  std::function<void(const std::string&)> on_started_;
  std::string exit_from_;
  std::mutex m_;  // the states
  std::condition_variable cv_;
};

}  // namespace

void stop_starting() {
  std::lock_guard gate(g_gate);
  g_abandoned = true;
}

Result<int> up_project(const Project& p, const UpOptions& o) {
  auto order = start_order(p, o.names);
  if (!order) return order.error();
  std::vector<Node> nodes;
  for (const auto* d : *order) {
    auto req = start_request_for(p, *d);
    if (!req) return req.error();
    Node n;
    n.def = d;
    n.req = std::move(*req);
    nodes.push_back(std::move(n));
  }
  for (auto& n : nodes) {
    for (const auto& dep : n.def->depends_on) {
      if (dep.condition != DependsOn::completed) continue;
      for (auto& m : nodes) m.needs_exit = m.needs_exit || m.def->name == dep.name;
    }
  }
  // The daemon is started once here, not by every thread at once.
  if (auto c = Client::connect(); !c) return c.error();
  return std::make_shared<Up>(p, std::move(nodes), o)->run();
}

}  // namespace sbx::cli
