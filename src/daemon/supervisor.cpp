#include "daemon/supervisor.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/process/v2/process_handle.hpp>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <unordered_set>

#include "common/atomic_file.hpp"
#include "common/command_line.hpp"
#include "common/fd.hpp"
#include "common/ids.hpp"
#include "common/proc.hpp"
#include "common/signal_names.hpp"
#include "daemon/spawn.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

constexpr Millis kGroupPollInterval{20};
constexpr Millis kReapAfterKillLimit{1000};

/// kill(2) on a process group, only for a group sbx created: a pgid of 0, 1 or below would
/// signal the daemon's own group, init, or every process we may signal.
void kill_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

/// Signals a process's whole tree: its process group, and every descendant that left the
/// group (setsid, a double fork) but still carries its SBX_PROCESS_ID.
/// Once the leader is reaped its pgid could in principle be recycled, so from then on
/// only processes that carry the tag are signalled.
void signal_tree(const ProcessRecord& r, int sig) {
  pid_t pgid = r.pid.value_or(0);
  bool leader_live = !r.ended();
  if (leader_live) kill_group(pgid, sig);
  for (pid_t p : tagged_descendants(r.id, ::getpid())) {
    if (p > 1 && !(leader_live && ::getpgid(p) == pgid)) ::kill(p, sig);
  }
}

/// True while anything of the tree is left.
bool tree_alive(const ProcessRecord& r) {
  if (!r.ended() && group_alive(r.pid.value_or(0))) return true;
  return !tagged_descendants(r.id, ::getpid()).empty();
}

}  // namespace

struct Supervisor::Entry {
  ProcessRecord rec;
  /// Our own child: Boost.Process waits on its pidfd and reaps it.
  std::unique_ptr<bp::basic_process_handle<asio::io_context::executor_type>> child;
  /// A process adopted from a previous daemon: we can see it end (pidfd) but not its status.
  std::unique_ptr<asio::posix::stream_descriptor> adopted;
  std::map<WatchId, EndFn> watchers;
  std::vector<std::function<void()>> stop_done;
  Timers::Id kill_timer = 0;
  Timers::Id poll_timer = 0;
  bool sent_kill = false;
  std::chrono::steady_clock::time_point kill_sent_at{};
};

struct Supervisor::Impl {
  asio::io_context& io;
  const Paths& paths;
  Timers& timers;
  std::map<std::string, std::shared_ptr<Entry>> entries;
  std::unordered_set<pid_t> leaders;  ///< pids of live children we reap through their handle
  WatchId next_watch = 1;
  std::uint64_t next_auto_id = 1;
  UniqueFd dev_null;

  void save(const ProcessRecord& r) {
    auto st = write_file_atomic(paths.record_path(r.id), record_to_toml(r));
    if (!st) spdlog::error("record {} not saved: {}", r.id, st.error().message);
  }

  std::string pick_id() {
    for (;;) {
      std::string id = std::to_string(next_auto_id++);
      if (!entries.count(id)) return id;
    }
  }

  void note_id(const std::string& id) {
    if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return;
    if (id.size() < 19) next_auto_id = std::max<std::uint64_t>(next_auto_id, std::stoull(id) + 1);
  }

  void watch_child(const std::shared_ptr<Entry>& e) {
    pid_t pid = *e->rec.pid;
    leaders.insert(pid);
    e->child = std::make_unique<bp::basic_process_handle<asio::io_context::executor_type>>(
        io.get_executor(), pid);
    std::weak_ptr<Entry> weak = e;
    e->child->async_wait([this, weak, pid](boost::system::error_code ec, int status) {
      leaders.erase(pid);
      auto e = weak.lock();
      if (!e) return;
      if (ec) {
        spdlog::error("waiting for {} (pid {}) failed: {}", e->rec.id, pid, ec.message());
        ended(e, std::nullopt);
      } else {
        ended(e, status);
      }
    });
  }

  void watch_adopted(const std::shared_ptr<Entry>& e) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, *e->rec.pid, 0));
    if (fd < 0) {
      ended(e, std::nullopt);
      return;
    }
    e->adopted = std::make_unique<asio::posix::stream_descriptor>(io, fd);
    std::weak_ptr<Entry> weak = e;
    e->adopted->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, weak](boost::system::error_code ec) {
                             if (ec == asio::error::operation_aborted) return;
                             if (auto e = weak.lock()) ended(e, std::nullopt);
                           });
  }

  /// The leader is gone. `wait_status` is its raw wait status when we reaped it ourselves.
  void ended(const std::shared_ptr<Entry>& e, std::optional<int> wait_status) {
    ProcessRecord& r = e->rec;
    r.end_time = now_epoch_ms();
    if (wait_status && WIFEXITED(*wait_status)) {
      r.exit_code = WEXITSTATUS(*wait_status);
      r.status = *r.exit_code == 0 ? ProcStatus::completed : ProcStatus::failed;
    } else if (wait_status && WIFSIGNALED(*wait_status)) {
      r.signal = signal_name(WTERMSIG(*wait_status));
      r.status = ProcStatus::killed;
    } else {
      r.status = ProcStatus::failed;
      r.error = "exit status unknown: the process ended while it was not a child of this sbxd";
    }
    save(r);
    spdlog::info("{} (pid {}) ended: {}{}", r.id, r.pid.value_or(0), status_name(r.status),
                 r.exit_code ? " " + std::to_string(*r.exit_code) : r.signal ? " " + *r.signal : "");
    auto watchers = std::move(e->watchers);
    e->watchers.clear();
    for (auto& [id, fn] : watchers) fn(r);
    check_stop(e);
  }

  /// Completes a stop once the leader has ended and its group is empty.
  void check_stop(const std::shared_ptr<Entry>& e) {
    if (e->stop_done.empty() || !e->rec.ended()) return;
    bool gave_up = e->sent_kill &&
                   std::chrono::steady_clock::now() - e->kill_sent_at > kReapAfterKillLimit;
    if (!gave_up && tree_alive(e->rec)) {
      if (!e->poll_timer) {
        std::weak_ptr<Entry> weak = e;
        e->poll_timer = timers.after(kGroupPollInterval, [this, weak] {
          if (auto e = weak.lock()) {
            e->poll_timer = 0;
            reap_orphans_now();
            check_stop(e);
          }
        });
      }
      return;
    }
    timers.cancel(e->kill_timer);
    timers.cancel(e->poll_timer);
    e->kill_timer = e->poll_timer = 0;
    auto done = std::move(e->stop_done);
    e->stop_done.clear();
    for (auto& fn : done) fn();
  }

  void reap_orphans_now() {
    std::string path = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
    auto text = read_file(path);
    if (!text) return;
    const char* p = text->c_str();
    while (*p) {
      char* end = nullptr;
      long pid = std::strtol(p, &end, 10);
      if (end == p) break;
      p = end;
      while (*p == ' ') ++p;
      if (pid > 1 && !leaders.count(static_cast<pid_t>(pid))) {
        ::waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG);
      }
    }
  }

  Result<ProcessRecord> fail(const std::shared_ptr<Entry>& e, const std::string& reason) {
    e->rec.status = ProcStatus::error;
    e->rec.error = reason;
    e->rec.pid.reset();
    e->rec.end_time = now_epoch_ms();
    save(e->rec);
    spdlog::info("{} could not start: {}", e->rec.id, reason);
    return make_error(Errc::failed, "'" + e->rec.id + "' could not start: " + reason);
  }
};

Supervisor::Supervisor(asio::io_context& io, const Paths& paths, Timers& timers)
    : impl_(std::make_unique<Impl>(Impl{io, paths, timers, {}, {}, 1, 1, UniqueFd()})) {
  impl_->dev_null.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

Supervisor::~Supervisor() = default;

void Supervisor::load() {
  DIR* dir = ::opendir(impl_->paths.processes_dir.c_str());
  if (!dir) return;
  std::vector<std::string> names;
  while (auto* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name.size() > 5 && name.ends_with(".toml")) names.push_back(name);
  }
  ::closedir(dir);
  for (const auto& name : names) {
    std::string path = impl_->paths.processes_dir + "/" + name;
    auto text = read_file(path);
    auto rec = text ? record_from_toml(*text) : Result<ProcessRecord>(text.error());
    if (!rec || rec->id + ".toml" != name || !is_valid_id(rec->id)) {
      std::string why = rec ? "its id does not match its file name" : rec.error().message;
      std::string aside = path + ".corrupt";
      ::rename(path.c_str(), aside.c_str());
      spdlog::error("record {} is unreadable ({}); set aside as {}", path, why, aside);
      continue;
    }
    auto e = std::make_shared<Entry>();
    e->rec = std::move(*rec);
    impl_->note_id(e->rec.id);
    impl_->entries[e->rec.id] = e;
    if (e->rec.ended()) continue;
    if (e->rec.pid && process_alive(*e->rec.pid, e->rec.pid_start_ticks)) {
      spdlog::info("adopted {} (pid {})", e->rec.id, *e->rec.pid);
      impl_->watch_adopted(e);
    } else if (e->rec.pid) {
      impl_->ended(e, std::nullopt);
    } else {
      impl_->fail(e, "sbxd stopped while the process was starting");
    }
  }
}

Result<ProcessRecord> Supervisor::start(StartSpec spec) {
  auto& I = *impl_;
  if (spec.id.empty()) {
    spec.id = I.pick_id();
  } else if (auto st = check_id(spec.id); !st) {
    return st.error();
  } else if (auto it = I.entries.find(spec.id); it != I.entries.end() && !it->second->rec.ended()) {
    return make_error(Errc::conflict, "process '" + spec.id + "' is still " +
                                          status_name(it->second->rec.status) +
                                          ": stop it with 'sbx kill " + spec.id + "' or pick another --id");
  }
  I.note_id(spec.id);

  auto e = std::make_shared<Entry>();
  ProcessRecord& r = e->rec;
  r.id = spec.id;
  r.cwd = spec.cwd;
  r.env = spec.env;
  r.session = spec.session;
  r.status = ProcStatus::starting;
  r.start_time = now_epoch_ms();

  std::map<std::string, std::string> env;
  for (const auto& kv : spec.base_env) {
    auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) env[k] = v;
  env["SBX_PROCESS_ID"] = r.id;
  env["SBX_SESSION"] = r.session;
  std::string path_var = env.count("PATH") ? env["PATH"] : "/usr/local/bin:/usr/bin:/bin";

  std::string program;
  int find_err = 0;
  if (!spec.shell_line.empty()) {
    r.command = spec.shell_line;
    auto words = split_plain_command(spec.shell_line);
    std::optional<std::string> found;
    if (words) found = find_program((*words)[0], path_var, r.cwd, find_err);
    if (found) {
      r.argv = *words;
      program = *found;
    } else {
      r.argv = {"/bin/sh", "-c", spec.shell_line};
      program = "/bin/sh";
    }
  } else {
    r.command = shell_join(spec.argv);
    r.argv = spec.argv;
  }
  I.entries[r.id] = e;  // replaces an ended record of the same id
  I.save(r);

  struct stat st{};
  if (::stat(r.cwd.c_str(), &st) != 0) {
    return I.fail(e, "cannot use working directory " + r.cwd + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return I.fail(e, "working directory " + r.cwd + " is not a folder");
  if (::access(r.cwd.c_str(), X_OK) != 0) {
    return I.fail(e, "cannot use working directory " + r.cwd + ": " + std::strerror(errno));
  }
  if (program.empty()) {
    auto found = find_program(r.argv[0], path_var, r.cwd, find_err);
    if (!found) {
      if (find_err == ENOENT && r.argv[0].find('/') == std::string::npos)
        return I.fail(e, "no such program '" + r.argv[0] + "' in PATH");
      return I.fail(e, "cannot run '" + r.argv[0] + "': " + std::strerror(find_err));
    }
    program = *found;
  }

  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
  UniqueFd out(::open(I.paths.log_path(r.id, false).c_str(), flags, 0600));
  UniqueFd err(::open(I.paths.log_path(r.id, true).c_str(), flags, 0600));
  if (!out || !err) return I.fail(e, std::string("cannot open its log files: ") + std::strerror(errno));

  SpawnRequest req;
  req.program = program;
  req.argv = r.argv;
  req.envp.reserve(env.size());
  for (const auto& [k, v] : env) req.envp.push_back(k + "=" + v);
  req.cwd = r.cwd;
  req.stdin_fd = I.dev_null.get();
  req.stdout_fd = out.get();
  req.stderr_fd = err.get();
  auto pid = spawn_process(req);
  if (!pid) return I.fail(e, "cannot exec " + program + ": " + pid.error().message);

  r.pid = *pid;
  r.pid_start_ticks = process_start_ticks(*pid);
  r.status = ProcStatus::running;
  I.watch_child(e);
  I.save(r);
  spdlog::info("started {} (pid {}): {}", r.id, *pid, r.command);
  return r;
}

const ProcessRecord* Supervisor::find(const std::string& id) const {
  auto it = impl_->entries.find(id);
  return it == impl_->entries.end() ? nullptr : &it->second->rec;
}

std::vector<const ProcessRecord*> Supervisor::all() const {
  std::vector<const ProcessRecord*> out;
  out.reserve(impl_->entries.size());
  for (const auto& [id, e] : impl_->entries) out.push_back(&e->rec);
  std::stable_sort(out.begin(), out.end(), [](const ProcessRecord* a, const ProcessRecord* b) {
    return a->start_time.value_or(0) < b->start_time.value_or(0);
  });
  return out;
}

std::size_t Supervisor::live_count() const {
  std::size_t n = 0;
  for (const auto& [id, e] : impl_->entries) n += e->rec.ended() ? 0 : 1;
  return n;
}

Supervisor::WatchId Supervisor::watch_end(const std::string& id, EndFn fn) {
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end() || it->second->rec.ended()) return 0;
  WatchId w = impl_->next_watch++;
  it->second->watchers.emplace(w, std::move(fn));
  return w;
}

void Supervisor::unwatch_end(const std::string& id, WatchId w) {
  auto it = impl_->entries.find(id);
  if (it != impl_->entries.end()) it->second->watchers.erase(w);
}

Status Supervisor::signal(const std::string& id, int sig) {
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return make_error(Errc::not_found, "no process '" + id + "'");
  const auto& r = it->second->rec;
  if (!r.pid) return ok_status();
  signal_tree(r, sig);  // also after the leader ended: what is left of its tree
  return ok_status();
}

Status Supervisor::stop(const std::string& id, int sig, Millis grace, std::function<void()> done) {
  auto& I = *impl_;
  auto it = I.entries.find(id);
  if (it == I.entries.end()) return make_error(Errc::not_found, "no process '" + id + "'");
  auto e = it->second;
  if (!e->rec.pid) {
    done();
    return ok_status();
  }
  if (!e->rec.ended() || tree_alive(e->rec)) {
    signal_tree(e->rec, sig);
    if (sig == SIGKILL) {
      e->sent_kill = true;
      e->kill_sent_at = std::chrono::steady_clock::now();
    }
  }
  e->stop_done.push_back(std::move(done));
  if (!e->kill_timer && !e->sent_kill) {
    std::weak_ptr<Entry> weak = e;
    e->kill_timer = I.timers.after(grace, [this, weak] {
      auto e = weak.lock();
      if (!e) return;
      e->kill_timer = 0;
      spdlog::info("{} outlived its grace: SIGKILL to its tree", e->rec.id);
      signal_tree(e->rec, SIGKILL);
      e->sent_kill = true;
      e->kill_sent_at = std::chrono::steady_clock::now();
      impl_->check_stop(e);
    });
  }
  I.check_stop(e);
  return ok_status();
}

void Supervisor::reap_orphans() { impl_->reap_orphans_now(); }

}  // namespace sbx::daemon
