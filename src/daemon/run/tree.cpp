#include "daemon/run/tree.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

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

void RunTree::refresh_scan() {
  using Clock = std::chrono::steady_clock;
  if (Clock::now() - token_scan_at_ > kTokenScanTtl) {
    token_scan_ = scan_run_tokens();
    token_scan_at_ = Clock::now();  // after the scan: a slow scan must not expire at once
  }
}

std::vector<pid_t> RunTree::processes(const ProcessRecord& r) {
  if (r.run_token.empty()) return {};
  refresh_scan();
  return scanned(r);
}

std::vector<pid_t> RunTree::scanned(const ProcessRecord& r) const {
  std::vector<pid_t> out;
  if (r.run_token.empty()) return out;
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

std::vector<pid_t> RunTree::pids(const ProcessRecord& r) { return pids({&r}).front(); }

std::vector<std::vector<pid_t>> RunTree::pids(const std::vector<const ProcessRecord*>& runs) {
  std::vector<std::vector<pid_t>> out(runs.size());
  std::unordered_map<std::string, std::size_t> by_token;
  std::unordered_map<pid_t, std::size_t> by_group;  // of the runs whose leader lives
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const ProcessRecord& r = *runs[i];
    if (!r.run_token.empty()) by_token.emplace(r.run_token, i);
    if (!r.ended() && group_alive(r.pid.value_or(0))) by_group.emplace(*r.pid, i);
  }
  auto add = [&](std::size_t i, pid_t p) {
    if (p != runs[i]->waiter_pid.value_or(0) &&
        std::find(out[i].begin(), out[i].end(), p) == out[i].end())
      out[i].push_back(p);
  };
  if (!by_token.empty()) {
    token_scan_ = scan_run_tokens();
    token_scan_at_ = std::chrono::steady_clock::now();
    for (const auto& [p, token] : token_scan_) {
      if (auto it = by_token.find(token); it != by_token.end()) add(it->second, p);
    }
  }
  if (!by_group.empty()) {  // no live group, no scan
    for (const auto& [p, group] : scan_process_groups()) {
      if (auto it = by_group.find(group); it != by_group.end()) add(it->second, p);
    }
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {  // the leader first, then by pid
    auto& v = out[i];
    std::sort(v.begin(), v.end());
    pid_t leader = runs[i]->ended() ? 0 : runs[i]->pid.value_or(0);
    if (auto it = std::find(v.begin(), v.end(), leader); it != v.end())
      std::rotate(v.begin(), it, it + 1);
  }
  return out;
}

}  // namespace sbx::daemon
