#include "daemon/run/tree.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "common/duration.hpp"
#include "common/proc.hpp"

namespace sbx::daemon {

namespace {

constexpr Millis kTokenScanTtl{15};

/// kill(2) on a process group, only for a group sbx created: a pgid of 0, 1 or below would
/// signal the daemon's own group, init, or every process we may signal.
void kill_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

}  // namespace

std::vector<pid_t> RunTree::processes(const ProcessRecord& r) {
  using Clock = std::chrono::steady_clock;
  std::vector<pid_t> out;
  if (r.run_token.empty()) return out;
  if (Clock::now() - token_scan_at_ > kTokenScanTtl) {
    token_scan_ = scan_run_tokens();
    token_scan_at_ = Clock::now();  // after the scan: a slow scan must not expire at once
  }
  for (const auto& [pid, token] : token_scan_) {
    if (token == r.run_token && pid != r.waiter_pid.value_or(0)) out.push_back(pid);
  }
  return out;
}

void RunTree::signal(const ProcessRecord& r, int sig) {
  pid_t pgid = r.pid.value_or(0);
  bool leader_live = !r.ended();
  if (leader_live) kill_group(pgid, sig);
  for (pid_t p : processes(r)) {
    if (p > 1 && !(leader_live && ::getpgid(p) == pgid)) ::kill(p, sig);
  }
}

bool RunTree::alive(const ProcessRecord& r) {
  // The group answers cheaply while it has members; only an empty group needs the scan
  // for members that left it.
  if (group_alive(r.pid.value_or(0))) return true;
  return !processes(r).empty();
}

std::vector<pid_t> RunTree::pids(const ProcessRecord& r) {
  std::vector<pid_t> out = processes(r);
  if (!r.ended()) {
    for (pid_t p : group_members(r.pid.value_or(0))) {
      if (p != r.waiter_pid.value_or(0) && std::find(out.begin(), out.end(), p) == out.end())
        out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sbx::daemon
