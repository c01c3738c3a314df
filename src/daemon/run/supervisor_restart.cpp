// Restarts (--restart on-failure|always) with a back-off that doubles up to kMaxBackoff and
// starts over after a healthy run.

#include <spdlog/spdlog.h>
#include <algorithm>

#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kMaxBackoff{30'000};
constexpr Millis kHealthyRun{10'000};  ///< a run this long resets the back-off
}  // namespace

bool Supervisor::should_restart(const Run& e) const {
  const ProcessRecord& r = e.rec;
  if (e.phase == Phase::stopping || e.watched != Watched::own_waiter) return false;
  if (r.max_restarts && r.restarts >= *r.max_restarts) return false;
  if (r.restart == "always") return true;
  return r.restart == "on-failure" && r.status != ProcStatus::completed;
}

void Supervisor::schedule_restart(const std::shared_ptr<Run>& e) {
  ProcessRecord& r = e->rec;
  e->last_status = r.status;
  if (Clock::now() - e->run_started >= kHealthyRun) e->backoff = kFirstBackoff;
  Millis delay = e->backoff;
  e->backoff = std::min(e->backoff * 2, kMaxBackoff);
  r.status = ProcStatus::starting;  // it will start again; the last exit stays in the record
  r.pid.reset();
  r.waiter_pid.reset();  // gone: a record starting without a waiter is not adopted
  r.waiter_start_ticks.reset();
  store_.save(r);
  spdlog::info("{} restarts in {}", r.id, format_duration(delay));
  std::weak_ptr<Run> weak = e;
  e->restart_timer = timers_.start(delay, [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    if (frozen_) return;  // detaching: the record says starting, as it was
    transition(*e, PhaseEvent::restart_due);
    e->rec.restarts++;
    auto could_not = [this, weak](Status st) {
      auto e = weak.lock();
      if (!e || st) return;
      transition(*e, PhaseEvent::launch_failed);
      e->rec.status = ProcStatus::error;
      e->rec.error = st.error().message;
      e->rec.end_time = now_epoch_ms();
      spdlog::info("{} could not restart: {}", e->rec.id, st.error().message);
      finalize(e);
    };
    if (auto launching = launch(e, false, could_not); !launching) could_not(launching);
  });
}

}  // namespace sbx::daemon
