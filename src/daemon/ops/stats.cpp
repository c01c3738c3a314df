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

json::object usage_row(Supervisor& supervisor, const ProcessRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["status"] = status_name(r.status);
  if (r.pid) o["pid"] = *r.pid;
  Usage u;
  const char* tree = "token";
  o["sampled_us"] = monotonic_us();
  if (!r.ended()) {
    std::optional<Usage> from_cgroup;
    if (!r.cgroup.empty()) from_cgroup = cgroup_usage(r.cgroup);
    if (from_cgroup) tree = "cgroup";
    u = from_cgroup ? *from_cgroup : proc_usage(supervisor.tree_pids(r));
    if (r.start_time) o["uptime_ms"] = std::max<EpochMs>(0, now_epoch_ms() - *r.start_time);
  }
  o["tree"] = tree;
  o["cpu_usec"] = u.cpu_usec;
  o["memory_bytes"] = u.memory_bytes;
  o["pids"] = u.pids;
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
  json::array rows;
  rows.reserve(records.size());
  for (const ProcessRecord* r : records) rows.emplace_back(usage_row(ctx.supervisor, *r));
  reply["processes"] = std::move(rows);
  conn->reply(json::value(std::move(reply)));
}

}  // namespace sbx::daemon
