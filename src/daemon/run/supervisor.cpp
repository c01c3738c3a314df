// The process table: starting processes, looking them up, watching for their end,
// signalling and removing them. How a run proceeds: supervisor_launch.cpp, _exit.cpp,
// _restart.cpp, _stop.cpp; records of an earlier sbxd: supervisor_adopt.cpp.

#include "daemon/run/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/atomic_file.hpp"
#include "common/command_line.hpp"
#include "common/ids.hpp"
#include "common/proc.hpp"
#include "daemon/run/spawn.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

std::string Supervisor::pick_id() {
  for (;;) {
    std::string id = std::to_string(next_auto_id_++);
    if (!entries_.count(id)) return id;
  }
}

void Supervisor::note_id(const std::string& id) {
  if (id.empty() || id.size() > 18 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return;
  next_auto_id_ = std::max<std::uint64_t>(next_auto_id_, std::stoull(id) + 1);
}

void Supervisor::forget(const std::shared_ptr<Run>& e) {
  const std::string& id = e->rec.id;
  hand_over(id, true);  // no record, no status to keep
  store_.remove(id);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second == e) entries_.erase(it);
}

Supervisor::Supervisor(asio::io_context& io, const Paths& paths, Timers& timers,
                       LogWatch& log_watch)
    : io_(io),
      paths_(paths),
      timers_(timers),
      log_cap_(log_watch, timers),
      store_(
          paths, timers,
          [this](const std::string& id) -> const ProcessRecord* {
            auto it = entries_.find(id);
            return it == entries_.end() ? nullptr : &it->second->rec;
          },
          [this](const std::string& id, bool durable) {
            // An adopted run's waiter (or one whose answer was lost) left an exit file.
            if (!hand_over(id, durable) && durable) ::unlink(paths_.exit_path(id).c_str());
          }),
      boot_id_(read_boot_id()),
      launcher_(io, timers, paths, store_, waiter_pids_, boot_id_),
      tree_(log_watch) {}

Supervisor::~Supervisor() { store_.sync_now(); }

void Supervisor::start(StartSpec spec, StartFn done) {
  if (spec.id.empty()) {
    spec.id = pick_id();
  } else if (auto st = check_id(spec.id); !st) {
    return done(st.error());
  } else if (auto it = entries_.find(spec.id); it != entries_.end() && !it->second->rec.ended()) {
    return done(make_error(Errc::conflict, "process '" + spec.id + "' is still " +
                                               status_name(it->second->rec.status) +
                                               ": stop it with 'sbx kill " + spec.id +
                                               "' or pick another --id"));
  }
  note_id(spec.id);
  removed_.erase(spec.id);

  auto e = std::make_shared<Run>();
  ProcessRecord& r = e->rec;
  r.id = spec.id;
  r.cwd = spec.cwd;
  r.env = spec.env;
  r.session = spec.session;
  r.status = ProcStatus::starting;
  r.start_time = now_epoch_ms();
  r.timeout_ms = spec.timeout_ms;
  r.auto_cleanup = spec.auto_cleanup;
  r.restart = spec.restart;
  r.max_restarts = spec.max_restarts;
  r.log_max = spec.log_max;
  r.tty = spec.tty;
  if (r.tty) r.tty_size = spec.tty_size;
  r.definition = spec.definition;
  r.user = spec.user;
  r.memory_max = spec.memory_max;
  r.pids_max = spec.pids_max;
  r.cpu_max = spec.cpu_max;
  if (auto st = tree_.check_limits(r); !st) return done(st.error());  // never a silent no-op

  // The caller's environment passes through byte for byte, in its order, whatever its
  // names, but for the variables set here (and the run token: each run gets its own).
  std::map<std::string, std::string> set = spec.env;
  set["SBX_PROCESS_ID"] = r.id;
  set["SBX_SESSION"] = r.session;
  std::optional<std::string> path_var;
  e->envp.reserve(spec.base_env.size() + set.size());
  for (const auto& kv : spec.base_env) {
    auto eq = kv.find('=');
    std::string name = kv.substr(0, eq);
    if (set.count(name) || name == kRunTokenVar) continue;
    if (name == "PATH" && eq != std::string::npos && !path_var)
      path_var = kv.substr(eq + 1);  // as getenv
    e->envp.push_back(kv);
  }
  for (const auto& [k, v] : set) e->envp.push_back(k + "=" + v);
  if (auto it = set.find("PATH"); it != set.end()) path_var = it->second;
  if (!path_var) path_var = "/usr/local/bin:/usr/bin:/bin";

  int find_err = 0;
  if (!spec.shell_line.empty()) {
    r.command = spec.shell_line;
    auto words = split_plain_command(spec.shell_line);
    std::optional<std::string> found;
    if (words) found = find_program((*words)[0], *path_var, r.cwd, find_err);
    if (found) {
      r.argv = *words;
      e->program = *found;
    } else if (words && !is_shell_builtin((*words)[0])) {
      r.argv = *words;  // no such program: refused below, as in the argv form
    } else {
      r.argv = {"/bin/sh", "-c", spec.shell_line};
      e->program = "/bin/sh";
    }
  } else {
    r.command = shell_join(spec.argv);
    r.argv = spec.argv;
  }
  // Replaced, not removed: an --rm record that a new start takes over is not cleaned up.
  // A start refused for want of a record (launch) puts the old one back, as it was.
  std::shared_ptr<Run> old;
  if (auto it = entries_.find(r.id); it != entries_.end()) old = it->second;
  bool old_cleanup = old && old->rec.auto_cleanup;
  if (old) old->rec.auto_cleanup = false;
  entries_[r.id] = e;

  struct stat st {};
  if (::stat(r.cwd.c_str(), &st) != 0) {
    return done(fail(e, "cannot use working directory " + r.cwd + ": " + std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) return done(fail(e, "working directory " + r.cwd + " is not a folder"));
  if (::access(r.cwd.c_str(), X_OK) != 0) {
    return done(fail(e, "cannot use working directory " + r.cwd + ": " + std::strerror(errno)));
  }
  if (e->program.empty()) {
    auto found = find_program(r.argv[0], *path_var, r.cwd, find_err);
    if (!found) {
      if (find_err == ENOENT && r.argv[0].find('/') == std::string::npos)
        return done(fail(e, "no such program '" + r.argv[0] + "' in PATH"));
      return done(fail(e, "cannot run '" + r.argv[0] + "': " + std::strerror(find_err)));
    }
    e->program = *found;
  }
  if (old) stop_relay(old->rec);  // its log is emptied for this run
  std::weak_ptr<Run> weak = e;
  auto launching = launch(e, true, [this, weak, done](Status launched) {
    auto e = weak.lock();
    if (!e) return done(make_error(Errc::failed, "it was removed while it started"));
    if (!launched) return done(fail(e, launched.error().message));
    done(e->rec);
  });
  if (!launching) {  // nothing starts that could not be recorded (a full disk)
    if (old) {
      old->rec.auto_cleanup = old_cleanup;
      entries_[r.id] = old;
    } else {
      entries_.erase(r.id);
    }
    return done(launching.error());
  }
  save_restart_env(*e, old.get());
}

const ProcessRecord* Supervisor::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second->rec;
}

std::vector<const ProcessRecord*> Supervisor::all() const {
  std::vector<const ProcessRecord*> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(&e->rec);
  std::stable_sort(out.begin(), out.end(), [](const ProcessRecord* a, const ProcessRecord* b) {
    return a->start_time.value_or(0) < b->start_time.value_or(0);
  });
  return out;
}

std::size_t Supervisor::live_count() const {
  std::size_t n = 0;
  for (const auto& [id, e] : entries_) n += e->rec.ended() ? 0 : 1;
  return n;
}

Supervisor::WatchId Supervisor::watch_end(const std::string& id, EndFn fn) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->rec.ended()) return 0;
  WatchId w = next_watch_++;
  it->second->watchers.emplace(w, std::move(fn));
  return w;
}

void Supervisor::unwatch_end(const std::string& id, WatchId w) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second->watchers.erase(w);
}

Status Supervisor::signal(const std::string& id, int sig) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return no_process(id);
  auto& e = *it->second;
  if (e.phase == Phase::launching) {  // no pid yet: it gets the signal the moment it has one
    e.signals_when_launched.push_back(sig);
    return ok_status();
  }
  signal_run(it->second, sig);  // without a pid (adopted while starting): by its token
  return ok_status();
}

Status Supervisor::stop(const std::string& id, int sig, Millis grace, const std::string& reason,
                        std::function<void()> done) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return no_process(id);
  begin_stop(it->second, sig, grace, reason, std::move(done));
  return ok_status();
}

void Supervisor::reap_orphans() { reap_orphans_now(); }

void Supervisor::freeze(std::function<void()> ready) {
  frozen_ = true;
  if (launches_ == 0) return ready();
  when_no_launches_.push_back(std::move(ready));
}

Status Supervisor::remove(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return no_process(id);
  auto e = it->second;
  if (!e->rec.ended()) {
    return make_error(Errc::conflict, "process '" + id + "' is " + status_name(e->rec.status) +
                                          ": stop it first ('sbx kill " + id +
                                          "') or use 'sbx rm -f " + id + "'");
  }
  forget(e);
  return ok_status();
}

const ProcessRecord* Supervisor::recently_removed(const std::string& id) const {
  auto it = removed_.find(id);
  if (it == removed_.end() || Clock::now() - it->second.at > kRemovedMemory) return nullptr;
  return &it->second.rec;
}

Supervisor::WatchId Supervisor::watch_trim(const std::string& id, TrimFn fn) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return 0;
  WatchId w = next_watch_++;
  it->second->trim_watchers.emplace(w, std::move(fn));
  return w;
}

void Supervisor::unwatch_trim(const std::string& id, WatchId w) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second->trim_watchers.erase(w);
}

std::shared_ptr<void> Supervisor::hold(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  std::weak_ptr<Run> weak = it->second;
  it->second->holds++;
  // The supervisor outlives every connection and its holds.
  return std::shared_ptr<void>(nullptr, [this, weak](void*) {
    auto e = weak.lock();
    if (!e || --e->holds > 0) return;
    e->holds = 0;
    maybe_cleanup(e);
  });
}

}  // namespace sbx::daemon
