#pragma once
// A run's tree: every process of it, and how it is signalled. The waiter is never part of it.
// Two ways to know it (RunTree::mode): in the cgroup mode each run has its own cgroup
// (run/cgroup.hpp), which holds exactly its processes; in the token mode the tree is the
// run's process group plus every process that carries its SBX_RUN_TOKEN, found in /proc.
// A record names its cgroup (`cgroup`) when it ran in one; it is signalled by it whatever
// mode the daemon that adopted it uses.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/logs/watch.hpp"
#include "daemon/run/cgroup.hpp"

namespace sbx::daemon {

class RunTree {
 public:
  explicit RunTree(LogWatch& watch) : watch_(watch) {}
  ~RunTree();
  RunTree(const RunTree&) = delete;
  RunTree& operator=(const RunTree&) = delete;

  /// Chooses the mode from SBX_TREE (cgroup.hpp) and what the host gives; an error when
  /// SBX_TREE asks for what cannot be had.
  Status open(const std::string& state_dir);
  /// "cgroup" or "token".
  const char* mode() const { return cgroups_ ? "cgroup" : "token"; }
  std::string subtree() const { return cgroups_ ? cgroups_->subtree() : ""; }
  /// Before a run of `r` is launched: in the cgroup mode, a new cgroup for it (r.cgroup),
  /// with its limits; r.cgroup is emptied in the token mode. An error starts nothing.
  Status prepare(ProcessRecord& r);
  /// Why `r`'s limits cannot be had, if they cannot (checked before anything is recorded).
  Status check_limits(const ProcessRecord& r) const;

  /// Signals a process's whole tree. In a cgroup: every process in it (SIGKILL through
  /// cgroup.kill). By token: its process group, and every process of the run that left
  /// the group (setsid, a double fork) but still carries its SBX_RUN_TOKEN; once the
  /// leader is reaped its pgid could in principle be recycled, so from then on only
  /// processes that carry the token are signalled.
  void signal(const ProcessRecord& r, int sig);
  /// True while any process of the run is left.
  bool alive(const ProcessRecord& r);
  /// Every process of the run now, as signal() finds them, the leader first: those of its
  /// cgroup, or else its process group while the leader lives and what carries its token;
  /// the waiter left out.
  /// Zombies may be among them.
  std::vector<pid_t> pids(const ProcessRecord& r);
  /// pids() of each of `runs`, from one fresh pass over /proc for all of them.
  std::vector<std::vector<pid_t>> pids(const std::vector<const ProcessRecord*>& runs);
  /// In a cgroup: calls `fn` once, from the loop, when its last process is gone (on
  /// cgroup.events, never by polling), replacing what an earlier call asked for the same
  /// cgroup; true. False, and `fn` is never called, for a run without a cgroup.
  bool when_gone(const ProcessRecord& r, std::function<void()> fn);
  /// The run in `dir` ended: its cgroup is removed as soon as it is empty.
  void release(const std::string& dir);
  /// At start-up, with every record: cgroups of the subtree that no live record names are
  /// released (their runs ended while no daemon watched).
  void adopt(const std::vector<const ProcessRecord*>& records);
  /// `daemon stop`: every empty cgroup is removed, and the subtree once it is empty.
  void close();

 private:
  /// The processes of a run (by SBX_RUN_TOKEN), its waiter left out. /proc is scanned at
  /// most once per kTokenScanTtl, so stopping a thousand processes costs a few scans.
  std::vector<pid_t> processes(const ProcessRecord& r);
  void refresh_scan();                                       ///< unless the last is recent
  std::vector<pid_t> scanned(const ProcessRecord& r) const;  ///< from the last scan
  void signal_by_token(const ProcessRecord& r, int sig);
  /// cgroup.events of `dir` changed, or is to be checked now.
  void check(const std::string& dir);
  struct Watched;
  /// The watch on `dir`'s cgroup.events, made if needed; null when `dir` is gone.
  Watched* watch(const std::string& dir);

  LogWatch& watch_;
  std::optional<Cgroups> cgroups_;
  struct Watched {
    LogWatch::Id id = 0;  ///< on cgroup.events, which the kernel marks modified when it changes
    std::function<void()> on_gone;
    bool release = false;
  };
  std::map<std::string, Watched> watched_;
  std::vector<std::pair<pid_t, std::string>> token_scan_;
  std::chrono::steady_clock::time_point token_scan_at_{};
};

}  // namespace sbx::daemon
