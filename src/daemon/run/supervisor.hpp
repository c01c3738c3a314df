#pragma once
// The process table: starts children, learns how they end, signals their trees, and keeps
// every record on disk current. All of it runs on the daemon's one event-loop thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/paths.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/logs/cap.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/timers.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::daemon {

struct StartSpec {
  std::string id;                          ///< empty: pick one
  std::vector<std::string> argv;           ///< argv form
  std::string shell_line;                  ///< or one shell line (argv empty)
  std::string cwd;                         ///< absolute
  std::vector<std::string> base_env;       ///< the caller's environment, "K=V"
  std::map<std::string, std::string> env;  ///< overrides (-e, --env-file)
  std::string session = "default";
  std::optional<std::int64_t> timeout_ms;  ///< stop it once it has run this long
  bool auto_cleanup = false;               ///< --rm
  std::string restart = "no";              ///< no | on-failure | always
  std::optional<int> max_restarts;         ///< absent: no limit
  std::int64_t log_max = kDefaultLogMax;   ///< per stream; 0: unbounded
};

class Supervisor {
 public:
  using EndFn = std::function<void(const ProcessRecord&)>;
  using WatchId = std::uint64_t;

  Supervisor(boost::asio::io_context& io, const Paths& paths, Timers& timers, LogWatch& log_watch);
  ~Supervisor();

  /// Reads every record at start-up; processes that were live are re-watched if they
  /// still run (same pid and start time) and marked ended otherwise.
  void load();

  /// Starts a process: `done` gets its record once the program was exec'd (running, with
  /// its pid), or the error that says why it could not start (its record says error).
  /// `done` runs inside this call when the start is refused or fails before the exec.
  /// Until the exec the record says starting, without a pid; a stop or a signal asked
  /// then is applied once it runs.
  using StartFn = std::function<void(Result<ProcessRecord>)>;
  void start(StartSpec spec, StartFn done);

  const ProcessRecord* find(const std::string& id) const;
  /// The record of `id`: a usage error for what is no id, "no process 'ID'" (not_found)
  /// when there is none.
  Result<const ProcessRecord*> lookup(const std::string& id) const {
    if (auto st = check_id(id); !st) return st.error();
    if (const ProcessRecord* r = find(id)) return r;
    return make_error(Errc::not_found, "no process '" + id + "': see 'sbx ps'");
  }
  std::vector<const ProcessRecord*> all() const;  ///< ordered by start time
  std::size_t live_count() const;

  /// Calls `fn` once when the live process `id` ends (with its final record).
  WatchId watch_end(const std::string& id, EndFn fn);
  void unwatch_end(const std::string& id, WatchId w);

  /// Sends `sig` to the process's whole tree (its process group). A run that this signal
  /// kills was ended by sbx: killed, reason "kill".
  Status signal(const std::string& id, int sig);
  /// Ends the process for good (no more restarts): sends `sig` to the tree, then SIGKILL to
  /// what is left once `grace` has passed. A run it ends is killed, with `reason` ("kill",
  /// "timeout", "stop") and its real exit code or signal.
  /// `done` runs once the leader has ended and the rest of its process group is gone
  /// (or, after SIGKILL, could not be reaped within a second).
  Status stop(const std::string& id, int sig, Millis grace, const std::string& reason,
              std::function<void()> done);

  /// Reaps children that are no waiter of ours (orphans we adopted as subreaper).
  void reap_orphans();

  /// For `daemon restart`: no run starts from now on (restarts stay due, as their records
  /// say); `ready` runs once no run is being launched, so every live record has its pid.
  void freeze(std::function<void()> ready);

  /// Forgets an ended process: its record and its logs. A live one is refused.
  Status remove(const std::string& id);
  /// The final record of an --rm process removed in the last minute, so that a `wait`
  /// that comes after a fast process already ended still learns how it ended.
  const ProcessRecord* recently_removed(const std::string& id) const;
  /// Calls `fn(stream, cut)` when the oldest bytes of a log were dropped to keep it within
  /// its cap.
  using TrimFn = std::function<void(std::uint8_t stream, const Trimmed& cut)>;
  WatchId watch_trim(const std::string& id, TrimFn fn);
  void unwatch_trim(const std::string& id, WatchId w);
  /// While held (a follower is reading its logs), an --rm process is not removed.
  /// The hold ends when the returned handle is dropped; it names this process, not its
  /// id, so a later process of the same id is never released by mistake.
  [[nodiscard]] std::shared_ptr<void> hold(const std::string& id);

 private:
  struct Entry;
  struct Impl;
  friend struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbx::daemon
