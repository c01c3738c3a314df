// Restarts (--restart on-failure|always) with a back-off that doubles up to kMaxBackoff and
// starts over after a healthy run.

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>

#include "common/atomic_file.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kMaxBackoff{30'000};
constexpr Millis kHealthyRun{10'000};  ///< a run this long resets the back-off
}  // namespace

bool Supervisor::should_restart(const Run& e) const {
  const ProcessRecord& r = e.rec;
  // Adopted, it restarts only with what its ID.env gave back; a run whose waiter was lost
  // is not restarted.
  if (e.phase == Phase::stopping || e.watched == Watched::program || e.program.empty())
    return false;
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

namespace {
bool restarts(const ProcessRecord& r) { return r.restart == "always" || r.restart == "on-failure"; }
}  // namespace

// ID.env: the program's path, then each environment entry, each ended by a NUL (neither can
// hold one). Not fsync'd: it matters only to a daemon after a crash, whose machine did not.
void Supervisor::save_restart_env(const Run& e, const Run* previous) {
  std::string path = paths_.restart_env_path(e.rec.id);
  if (!restarts(e.rec)) {
    if (previous && restarts(previous->rec)) {  // an earlier run of that id left one
      ::unlink(path.c_str());
      ::unlink(atomic_spare_path(path).c_str());
    }
    return;
  }
  std::string text = e.program + '\0';
  for (const auto& kv : e.envp) text += kv + '\0';
  if (auto st = write_file_atomic(path, text, false); !st)
    spdlog::warn("{}: {}; a daemon after a crash would not restart it", e.rec.id,
                 st.error().message);
}

void Supervisor::load_restart_env(Run& e) {
  if (!restarts(e.rec)) return;
  auto text = read_file(paths_.restart_env_path(e.rec.id));
  if (!text || text->empty() || text->back() != '\0') {
    spdlog::warn("{}: its program and environment are not on disk: it will not be restarted",
                 e.rec.id);
    return;
  }
  std::vector<std::string> parts;
  for (size_t at = 0; at < text->size();) {
    size_t end = text->find('\0', at);
    parts.emplace_back(*text, at, end - at);
    at = end + 1;
  }
  e.program = std::move(parts.front());
  e.envp.assign(std::make_move_iterator(parts.begin() + 1), std::make_move_iterator(parts.end()));
}

}  // namespace sbx::daemon
