// stats: one sample of what each tree uses (daemon/run/usage.hpp). The reply carries the
// moment of each sample (a monotonic clock, microseconds): the CLI divides the CPU time
// two samples apart by the time between them, so no request waits here.

#include <boost/json/array.hpp>
#include <chrono>

#include "daemon/ops/ops.hpp"
#include "daemon/run/usage.hpp"
#include "proto/requests_records.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

std::int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

struct Sample {
  Usage usage;
  std::int64_t at_us = 0;  ///< when it was read
  bool from_cgroup = false;
};

json::object usage_row(const ProcessRecord& r, const Sample& s) {
  json::object o;
  o["id"] = r.id;
  o["status"] = status_name(r.status);
  if (r.pid) o["pid"] = *r.pid;
  o["sampled_us"] = s.at_us;
  if (!r.ended() && r.start_time)
    o["uptime_ms"] = std::max<EpochMs>(0, now_epoch_ms() - *r.start_time);
  o["tree"] = s.from_cgroup ? "cgroup" : "token";
  o["cpu_usec"] = s.usage.cpu_usec;
  o["memory_bytes"] = s.usage.memory_bytes;
  o["pids"] = s.usage.pids;
  return o;
}

}  // namespace

void op_stats(Context& ctx, const proto::StatsRequest& req, const ConnPtr& conn) {
  std::vector<const ProcessRecord*> records;
  if (req.ids.empty()) {
    for (const ProcessRecord* r : ctx.supervisor.all())
      if (!r->ended()) records.push_back(r);
  }
  for (const auto& id : req.ids) {
    auto found = ctx.supervisor.lookup(id);
    if (!found) return conn->reply(found.error());
    records.push_back(*found);
  }
  json::object reply;
  reply["sampled_us"] = monotonic_us();  // before every row's
  std::vector<Sample> samples(records.size());
  // From its cgroup where a run has one that answers; the trees of the others are found
  // in one pass over /proc for all of them.
  std::vector<const ProcessRecord*> scanned;
  std::vector<std::size_t> scanned_at;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const ProcessRecord& r = *records[i];
    samples[i].at_us = monotonic_us();
    if (r.ended()) continue;  // it uses nothing
    std::optional<Usage> u;
    if (!r.cgroup.empty()) u = cgroup_usage(r.cgroup);
    if (u) {
      samples[i].usage = *u;
      samples[i].from_cgroup = true;
    } else {
      scanned.push_back(&r);
      scanned_at.push_back(i);
    }
  }
  auto trees = ctx.supervisor.tree_pids(scanned);
  for (std::size_t k = 0; k < scanned.size(); ++k) {
    Sample& s = samples[scanned_at[k]];
    s.at_us = monotonic_us();
    s.usage = proc_usage(trees[k]);
  }
  json::array rows;
  rows.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i)
    rows.emplace_back(usage_row(*records[i], samples[i]));
  reply["processes"] = std::move(rows);
  conn->reply(json::value(std::move(reply)));
}

}  // namespace sbx::daemon
