// sbx down: the live processes of a project, stopped in waves: a process is stopped once
// every live process that depends on it has ended.

#include <algorithm>
#include <set>

#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/project.hpp"
#include "cli/project_steps.hpp"
#include "common/record_json.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {

Result<int> down_project(const std::string& session, const Project* p,
                         std::optional<Millis> grace) {
  auto live_of = [](const std::string& s) -> Result<std::set<std::string>> {
    auto client = Client::connect();
    if (!client) return client.error();
    proto::PsRequest ps;
    ps.session = s;
    ps.status = {"live"};
    ps.brief = true;
    auto v = client->call(proto::PsRequest::kOp, ps.to_json());
    if (!v) return v.error();
    std::set<std::string> ids;
    if (v->is_array()) {
      for (const auto& r : v->get_array()) {
        auto rec = record_from_json(r);
        if (rec && !rec->ended()) ids.insert(rec->id);
      }
    }
    return ids;
  };
  // The commands of `ready = { exec }` still running go first: they depend on the project.
  auto probes = live_of(session + kProbeSessionSuffix);
  if (!probes) return probes.error();
  if (!probes->empty()) {
    proto::KillRequest kill;
    kill.ids.assign(probes->begin(), probes->end());
    kill.grace = grace.value_or(kStopGrace);
    auto client = Client::connect();
    if (!client) return client.error();
    if (auto k = client->call(proto::KillRequest::kOp, kill.to_json());
        !k && k.error().code != Errc::not_found)
      return k.error();
  }
  auto found = live_of(session);
  if (!found) return found.error();
  std::set<std::string> live = std::move(*found);
  // A process that the file does not know (any more) depends on nothing known.
  auto depends_on = [p](const std::string& who, const std::string& on) {
    const ProcessDef* d = p ? p->find(who) : nullptr;
    if (!d) return false;
    return std::any_of(d->depends_on.begin(), d->depends_on.end(),
                       [&](const Dependency& dep) { return dep.name == on; });
  };
  while (!live.empty()) {
    proto::KillRequest kill;
    for (const auto& id : live) {
      bool needed = std::any_of(live.begin(), live.end(),
                                [&](const std::string& other) { return depends_on(other, id); });
      if (!needed) kill.ids.push_back(id);
    }
    if (kill.ids.empty()) kill.ids.assign(live.begin(), live.end());  // a cycle: all at once
    if (grace) kill.grace = *grace;
    auto conn = Client::connect();  // one request a connection
    if (!conn) return conn.error();
    auto k = conn->call(proto::KillRequest::kOp, kill.to_json());
    if (!k && k.error().code != Errc::not_found) return k.error();
    for (const auto& id : kill.ids) {
      progress_line(id + ": stopped");
      live.erase(id);
    }
  }
  return kExitOk;
}

}  // namespace sbx::cli
