// A run's tree: every process of it, found by its process group and by its run token,
// and how it is signalled. The waiter is never part of it.

#include <signal.h>
#include <unistd.h>

#include "common/proc.hpp"
#include "daemon/supervisor_impl.hpp"

namespace sbx::daemon {

namespace {

/// kill(2) on a process group, only for a group sbx created: a pgid of 0, 1 or below would
/// signal the daemon's own group, init, or every process we may signal.
void kill_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

}  // namespace

std::vector<pid_t> Supervisor::Impl::run_processes(const ProcessRecord& r) {
  std::vector<pid_t> out;
  if (r.run_token.empty()) return out;
  if (Clock::now() - token_scan_at > kTokenScanTtl) {
    token_scan = scan_run_tokens();
    token_scan_at = Clock::now();  // after the scan: a slow scan must not expire at once
  }
  for (const auto& [pid, token] : token_scan) {
    if (token == r.run_token && pid != r.waiter_pid.value_or(0)) out.push_back(pid);
  }
  return out;
}

/// Signals a process's whole tree: its process group, and every process of the run that
/// left the group (setsid, a double fork) but still carries its SBX_RUN_TOKEN. Once the
/// leader is reaped its pgid could in principle be recycled, so from then on only
/// processes that carry the token are signalled. The waiter is never signalled.
void Supervisor::Impl::signal_tree(const ProcessRecord& r, int sig) {
  pid_t pgid = r.pid.value_or(0);
  bool leader_live = !r.ended();
  if (leader_live) kill_group(pgid, sig);
  for (pid_t p : run_processes(r)) {
    if (p > 1 && !(leader_live && ::getpgid(p) == pgid)) ::kill(p, sig);
  }
}

void Supervisor::Impl::signal_run(const std::shared_ptr<Entry>& e, int sig) {
  if (!e->rec.ended()) e->asked_signals.push_back(sig);
  signal_tree(e->rec, sig);
}

bool Supervisor::Impl::tree_alive(const ProcessRecord& r) {
  // The group answers cheaply while it has members; only an empty group needs the scan
  // for members that left it.
  if (group_alive(r.pid.value_or(0))) return true;
  return !run_processes(r).empty();
}

}  // namespace sbx::daemon
