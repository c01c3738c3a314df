// Stopping a run for good and signalling its tree: the signal, SIGKILL to what is left
// after the grace, and the wait until no process of the tree is left.

#include <signal.h>

#include <spdlog/spdlog.h>

#include "common/proc.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

namespace {

constexpr Millis kTreePollInterval{20};
constexpr Millis kReapAfterKillLimit{1000};

}  // namespace

void Supervisor::begin_stop(const std::shared_ptr<Run>& e, int sig, Millis grace,
                            const std::string& reason, std::function<void()> done) {
  // Even without a caller waiting (a --timeout), the stop goes on until the tree is gone.
  e->stop_done.push_back(done ? std::move(done) : [] {});
  Phase from = e->phase;
  transition(*e, PhaseEvent::stop_asked);
  switch (from) {
    case Phase::launching: {  // no pid yet: stop it the moment it has one (or end with its failure)
      bool kill_asked = e->stop_when_launched && e->stop_when_launched->sig == SIGKILL;
      if (!kill_asked) e->stop_when_launched = Run::PendingStop{sig, grace, reason};
      return;
    }
    case Phase::backoff:  // between two runs: nothing runs, the last run's end is final
      e->restart_timer.cancel();
      e->rec.status = e->last_status;
      finalize(e);
      return;
    case Phase::running:
    case Phase::stopping:
    case Phase::ended:
      break;
  }
  bool leader_live = !e->rec.ended();
  if (!e->rec.pid && e->rec.ended()) return check_stop(e);
  if (leader_live && !e->stop_reason) e->stop_reason = reason;  // the first stop's reason stands
  if (leader_live || tree_.alive(e->rec)) {
    tree_.signal(e->rec, sig);  // without a pid (adopted while starting): by its token
    if (sig == SIGKILL) e->kill_sent_at = Clock::now();
  }
  if (!e->kill_timer.pending() && !e->kill_sent_at) {
    std::weak_ptr<Run> weak = e;
    e->kill_timer = timers_.start(grace, [this, weak] {
      auto e = weak.lock();
      if (!e) return;
      spdlog::info("{} outlived its grace: SIGKILL to its tree", e->rec.id);
      tree_.signal(e->rec, SIGKILL);
      e->kill_sent_at = Clock::now();
      check_stop(e);
    });
  }
  check_stop(e);
}

void Supervisor::signal_run(const std::shared_ptr<Run>& e, int sig) {
  if (!e->rec.ended()) e->asked_signals.push_back(sig);
  tree_.signal(e->rec, sig);
}

void Supervisor::check_stop(const std::shared_ptr<Run>& e) {
  if (!e->rec.ended()) return;
  bool gave_up = e->kill_sent_at && Clock::now() - *e->kill_sent_at > kReapAfterKillLimit;
  if (!e->stop_done.empty() && !gave_up && tree_.alive(e->rec)) {
    // In a cgroup its end is told by cgroup.events; a timer only for giving up after SIGKILL.
    std::weak_ptr<Run> weak = e;
    bool told = tree_.when_gone(e->rec, [this, weak] {
      if (auto e = weak.lock()) check_stop(e);
    });
    if (e->stop_done.empty() || (told && !e->kill_sent_at)) return;  // empty: it ended in there
    if (!e->poll_timer.pending()) {
      e->poll_timer = timers_.start(told ? kReapAfterKillLimit : kTreePollInterval, [this, weak] {
        if (auto e = weak.lock()) {
          reap_orphans_now();
          check_stop(e);
        }
      });
    }
    return;
  }
  e->kill_timer.cancel();
  e->poll_timer.cancel();
  transition(*e, PhaseEvent::tree_gone);
  auto done = std::move(e->stop_done);
  e->stop_done.clear();
  for (auto& fn : done) fn();
  maybe_cleanup(e);
}

}  // namespace sbx::daemon
