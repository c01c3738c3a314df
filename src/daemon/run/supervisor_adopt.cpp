// Start-up: the records of an earlier sbxd are read, and the runs they name adopted while
// their waiters still wait (among them runs that were being launched), or ended.

#include <dirent.h>

#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/proc.hpp"
#include "daemon/run/exit_watch.hpp"
#include "daemon/run/spawn.hpp"
#include "daemon/run/supervisor.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kAdoptPollInterval{20};
}  // namespace

void Supervisor::load() {
  DIR* dir = ::opendir(paths_.processes_dir.c_str());
  if (!dir) return;
  std::vector<std::string> names;
  while (auto* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name.size() > 5 && name.ends_with(".toml")) names.push_back(name);
  }
  ::closedir(dir);
  for (const auto& name : names) {
    std::string path = paths_.processes_dir + "/" + name;
    auto text = read_file(path);
    auto rec = text ? record_from_toml(*text) : Result<ProcessRecord>(text.error());
    if (!rec || rec->id + ".toml" != name || !is_valid_id(rec->id)) {
      std::string why = rec ? "its id does not match its file name" : rec.error().message;
      std::string aside = path + ".corrupt";
      ::rename(path.c_str(), aside.c_str());
      spdlog::error("record {} is unreadable ({}); set aside as {}", path, why, aside);
      continue;
    }
    auto e = std::make_shared<Run>();
    e->rec = std::move(*rec);
    note_id(e->rec.id);
    entries_[e->rec.id] = e;
    e->phase = e->rec.ended() ? Phase::ended : Phase::running;
    if (e->rec.ended()) {
      store_.adopt_final(e->rec.id);
      continue;
    }
    // Pids and start ticks count from boot: a run of another boot is never adopted, and
    // nothing is signalled for it. Its waiter may have written its status before the reboot.
    if (!e->rec.boot_id.empty() && e->rec.boot_id != boot_id_) {
      spdlog::warn("{} ran before the system was restarted: not adopted", e->rec.id);
      ended(e, read_exit_status(paths_.exit_path(e->rec.id)),
            "exit status unknown: the system was restarted while it ran");
      continue;
    }
    // A live record: its waiter still waits (adopt it; a run still starting was recorded
    // before its exec), or it wrote the exit status while no sbxd was running (read it),
    // or the process was lost with its waiter.
    if (e->rec.waiter_pid && process_alive(*e->rec.waiter_pid, e->rec.waiter_start_ticks)) {
      if (!e->rec.pid) {
        adopt_launch(e);
        continue;
      }
      spdlog::info("adopted {} (pid {}, waiter {})", e->rec.id, *e->rec.pid, *e->rec.waiter_pid);
      programs_[*e->rec.pid] = e;
      watch_exit(e, Watched::adopted_waiter);
      adopted_running(e);
    } else if (e->rec.waiter_pid) {
      waiter_ended(e);
    } else {
      fail(e, "sbxd stopped while the process was starting");
    }
  }
  tree_.adopt(all());
}

void Supervisor::adopt_launch(const std::shared_ptr<Run>& e) {
  spdlog::info("adopted {} (waiter {}), which was being started", e->rec.id,
               e->rec.waiter_pid.value_or(0));
  watch_exit(e, Watched::adopted_waiter);
  find_adopted_program(e, Clock::now() + kLaunchReportLimit);
}

void Supervisor::find_adopted_program(const std::shared_ptr<Run>& e, Clock::time_point give_up) {
  ProcessRecord& r = e->rec;
  if (!e->exit_watch || r.ended() || r.pid)
    return;  // its waiter ended meanwhile: waiter_ended decided
  // Once exec'd, the program is the waiter's child and carries the run's token; before, the
  // child (if forked yet) is a copy of the waiter, without it.
  auto pid = child_with_env(*r.waiter_pid, kRunTokenVar, r.run_token);
  if (!pid) {
    if (Clock::now() > give_up) return;  // it stays starting until its waiter ends
    std::weak_ptr<Run> weak = e;
    e->adopt_timer = timers_.start(kAdoptPollInterval, [this, weak, give_up] {
      if (auto e = weak.lock()) find_adopted_program(e, give_up);
    });
    return;
  }
  r.pid = *pid;
  r.pid_start_ticks = process_start_ticks(*pid);
  r.status = ProcStatus::running;
  programs_[*pid] = e;
  spdlog::info("{}: its program was exec'd (pid {})", r.id, *pid);
  store_.save(r);
  adopted_running(e);
}

void Supervisor::adopted_running(const std::shared_ptr<Run>& e) {
  cap_logs(e);
  load_restart_env(*e);
  // Its timeout counts from its start, as it did under the daemon that started it (by the
  // wall clock, which is all a record keeps of that start).
  const ProcessRecord& r = e->rec;
  if (r.timeout_ms)
    arm_timeout(e, Millis(r.start_time.value_or(now_epoch_ms()) + *r.timeout_ms - now_epoch_ms()));
}

}  // namespace sbx::daemon
