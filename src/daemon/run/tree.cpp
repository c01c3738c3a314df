#include "daemon/run/tree.hpp"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "common/duration.hpp"
#include "common/proc.hpp"
#include "daemon/run/cgroup_limits.hpp"
#include "daemon/run/usage.hpp"

namespace sbx::daemon {

namespace {

constexpr Millis kTokenScanTtl{15};

/// kill(2) on a process group, only for a group sbx created: a pgid of 0, 1 or below would
/// signal the daemon's own group, init, or every process we may signal.
void kill_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

}  // namespace

RunTree::~RunTree() {
  for (auto& [dir, w] : watched_) watch_.unwatch(w.id);
}

Status RunTree::open(const std::string& state_dir) {
  const char* asked_env = std::getenv(kTreeModeVar);
  std::string asked = asked_env && *asked_env ? asked_env : "auto";
  if (asked != "auto" && asked != "cgroup" && asked != "token")
    return make_error(Errc::usage, std::string(kTreeModeVar) + "=" + asked +
                                       " is no tree mode: use cgroup, token or auto");
  if (asked == "token") {
    spdlog::info("process trees: by token ({}=token)", kTreeModeVar);
    return ok_status();
  }
  auto c = Cgroups::open(state_dir);
  if (!c) {
    if (asked == "cgroup")
      return make_error(Errc::failed,
                        std::string(kTreeModeVar) + "=cgroup, but " + c.error().message);
    spdlog::info("process trees: by token ({})", c.error().message);
    return ok_status();
  }
  enable_controllers(c->subtree());
  spdlog::info("process trees: one cgroup per run, in {}", c->subtree());
  cgroups_ = std::move(*c);
  return ok_status();
}

Status RunTree::check_limits(const ProcessRecord& r) const {
  CgroupLimits limits = limits_of(r);
  if (!limits.any()) return ok_status();
  if (!cgroups_)
    return make_error(Errc::failed,
                      limits.first_option() +
                          " needs a cgroup for the run, and sbxd finds process trees by "
                          "token (" +
                          std::string(kTreeModeVar) +
                          "=token, or no writable cgroup2: see sbxd.log)");
  return check_controllers(cgroups_->subtree(), limits);
}

Status RunTree::prepare(ProcessRecord& r) {
  if (!r.cgroup.empty()) release(r.cgroup);  // the last run's: gone once its stragglers are
  r.cgroup.clear();
  if (auto st = check_limits(r); !st) return st;
  if (!cgroups_) return ok_status();
  auto dir = cgroups_->create(r.id);
  if (!dir) return dir.error();
  if (auto st = write_limits(*dir, limits_of(r)); !st) {
    Cgroups::remove(*dir);
    return st;
  }
  r.cgroup = *dir;
  return ok_status();
}

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

void RunTree::signal_by_token(const ProcessRecord& r, int sig) {
  pid_t pgid = r.pid.value_or(0);
  bool leader_live = !r.ended();
  if (leader_live) kill_group(pgid, sig);
  for (pid_t p : processes(r)) {
    if (p > 1 && !(leader_live && ::getpgid(p) == pgid)) ::kill(p, sig);
  }
}

void RunTree::signal(const ProcessRecord& r, int sig) {
  if (r.cgroup.empty()) return signal_by_token(r, sig);
  Cgroups::signal(r.cgroup, sig);
}

bool RunTree::alive(const ProcessRecord& r) {
  if (!r.cgroup.empty()) return Cgroups::populated(r.cgroup);
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
    if (!r.cgroup.empty()) {  // its cgroup is its tree, whatever left the group or the token
      out[i] = cgroup_pids(r.cgroup);
      continue;
    }
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

bool RunTree::when_gone(const ProcessRecord& r, std::function<void()> fn) {
  if (r.cgroup.empty()) return false;
  Watched* w = watch(r.cgroup);
  if (!w) {
    fn();  // removed: nothing of it is left
    return true;
  }
  w->on_gone = std::move(fn);
  check(r.cgroup);  // it may have emptied before the watch
  return true;
}

void RunTree::release(const std::string& dir) {
  if (dir.empty()) return;
  // Empty already (the usual end): rmdir succeeds, and nothing need be watched. It fails
  // with EBUSY while a process is left in it.
  if (!watched_.contains(dir) && Cgroups::remove(dir)) return;
  if (Watched* w = watch(dir)) {
    w->release = true;
    check(dir);
  }
}

RunTree::Watched* RunTree::watch(const std::string& dir) {
  if (auto it = watched_.find(dir); it != watched_.end()) return &it->second;
  if (::access(dir.c_str(), F_OK) != 0) return nullptr;
  Watched& w = watched_[dir];
  w.id = watch_.watch(dir + "/cgroup.events", [this, dir] { check(dir); });
  return &w;
}

void RunTree::check(const std::string& dir) {
  auto it = watched_.find(dir);
  if (it == watched_.end() || Cgroups::populated(dir)) return;
  Watched w = std::move(it->second);
  watched_.erase(it);
  watch_.unwatch(w.id);
  if (w.release && !Cgroups::remove(dir)) spdlog::warn("cannot remove the cgroup {}", dir);
  if (w.on_gone) w.on_gone();
}

void RunTree::adopt(const std::vector<const ProcessRecord*>& records) {
  std::set<std::string> live;
  for (const ProcessRecord* r : records) {
    if (r->cgroup.empty()) continue;
    if (r->ended())
      release(r->cgroup);  // stragglers may be left in it
    else
      live.insert(r->cgroup);
  }
  if (!cgroups_) return;
  for (const auto& dir : cgroups_->children()) {
    if (!live.count(dir) && !watched_.count(dir)) release(dir);
  }
}

void RunTree::close() {
  for (auto& [dir, w] : watched_) {
    watch_.unwatch(w.id);
    Cgroups::remove(dir);
  }
  watched_.clear();
  if (cgroups_) cgroups_->remove_subtree();
}

}  // namespace sbx::daemon
