#pragma once
// A run's tree: every process of it, found by its process group and by its run token, and
// how it is signalled. The waiter is never part of it.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/record.hpp"

namespace sbx::daemon {

class RunTree {
 public:
  /// Signals a process's whole tree: its process group, and every process of the run that
  /// left the group (setsid, a double fork) but still carries its SBX_RUN_TOKEN. Once the
  /// leader is reaped its pgid could in principle be recycled, so from then on only
  /// processes that carry the token are signalled. The waiter is never signalled.
  void signal(const ProcessRecord& r, int sig);
  /// True while any process of the run is left.
  bool alive(const ProcessRecord& r);
  /// Every process of the run now, as signal() finds them, the leader first: its process
  /// group while the leader lives, and what carries its token; the waiter left out.
  /// Zombies may be among them.
  std::vector<pid_t> pids(const ProcessRecord& r);
  /// pids() of each of `runs`, from one fresh pass over /proc for all of them.
  std::vector<std::vector<pid_t>> pids(const std::vector<const ProcessRecord*>& runs);

 private:
  /// The processes of a run (by SBX_RUN_TOKEN), its waiter left out. /proc is scanned at
  /// most once per kTokenScanTtl, so stopping a thousand processes costs a few scans.
  std::vector<pid_t> processes(const ProcessRecord& r);
  void refresh_scan();                                       ///< unless the last is recent
  std::vector<pid_t> scanned(const ProcessRecord& r) const;  ///< from the last scan
  std::vector<std::pair<pid_t, std::string>> token_scan_;
  std::chrono::steady_clock::time_point token_scan_at_{};
};

}  // namespace sbx::daemon
