#include "proto/requests_records.hpp"

#include <boost/json/array.hpp>

#include "common/ids.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

namespace {

/// The ids at "ids": each checked to be an id.
Result<std::vector<std::string>> ids_at(const json::object& o) {
  std::vector<std::string> ids;
  if (const auto* v = o.if_contains("ids"); v && v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) return make_error(Errc::protocol, "'ids' must be strings");
      ids.emplace_back(e.get_string());
      if (auto st = check_id(ids.back()); !st) return st.error();
    }
  }
  return ids;
}

}  // namespace

json::object PsRequest::to_json() const {
  json::object o;
  if (session) o["session"] = bytes_to_json(*session);
  if (!status.empty()) o["status"] = to_array(status);
  if (brief) o["brief"] = true;
  return o;
}

Result<PsRequest> PsRequest::from_json(const json::object& o) {
  PsRequest r;
  r.session = get_opt_bytes(o, "session");
  // "status": a word or a list of them.
  if (const auto* v = o.if_contains("status")) {
    json::array words;
    if (v->is_array())
      words = v->get_array();
    else
      words.push_back(*v);
    for (const auto& w : words) {
      if (!w.is_string() || !parse_status_filter(w.get_string())) {
        return make_error(
            Errc::usage,
            "unknown status '" + (w.is_string() ? std::string(w.get_string()) : "?") +
                "': use starting, running, completed, failed, killed, error, live or ended");
      }
      r.status.emplace_back(w.get_string());
    }
  }
  r.brief = get_bool(o, "brief");
  return r;
}

std::vector<ProcStatus> PsRequest::statuses() const {
  std::vector<ProcStatus> out;
  for (const auto& w : status) {
    if (auto st = parse_status_filter(w)) out.insert(out.end(), st->begin(), st->end());
  }
  return out;
}

json::object ShowRequest::to_json() const {
  json::object o;
  o["id"] = id;
  if (toml) o["format"] = "toml";
  if (ports) o["ports"] = true;
  return o;
}

Result<ShowRequest> ShowRequest::from_json(const json::object& o) {
  ShowRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  r.id = std::move(*id);
  r.toml = get_opt_string(o, "format") == std::string("toml");
  if (const auto* p = o.if_contains("ports"); p && p->is_bool()) r.ports = p->get_bool();
  return r;
}

json::value ShowTomlReply::to_json() const { return json::object{{"toml", toml}}; }

std::optional<ShowTomlReply> ShowTomlReply::from_json(const json::value& v) {
  const auto* o = v.if_object();
  auto toml = o ? get_opt_string(*o, "toml") : std::nullopt;
  if (!toml) return std::nullopt;
  return ShowTomlReply{std::move(*toml)};
}

json::object KillRequest::to_json() const {
  json::object o;
  o["ids"] = to_array(ids);
  if (all) o["all"] = true;
  if (session) o["session"] = bytes_to_json(*session);
  o["signal"] = signal;
  if (grace != kStopGrace) o["grace_ms"] = grace.count();
  o["stop"] = stop;
  o["wait"] = wait;
  return o;
}

Result<KillRequest> KillRequest::from_json(const json::object& o) {
  KillRequest r;
  auto ids = ids_at(o);
  if (!ids) return ids.error();
  r.ids = std::move(*ids);
  r.all = get_bool(o, "all");
  if (!r.all && r.ids.empty())
    return make_error(Errc::usage, "name the processes to kill, or use --all");
  r.session = get_opt_bytes(o, "session");
  auto sig = get_opt_int(o, "signal").value_or(kStopSignal);
  if (sig < 1 || sig > 64) return make_error(Errc::usage, "bad signal number");
  r.signal = static_cast<int>(sig);
  r.grace = Millis(get_opt_int(o, "grace_ms").value_or(kStopGrace.count()));
  r.stop = get_bool(o, "stop", true);
  r.wait = get_bool(o, "wait", true);
  return r;
}

json::value KillReply::to_json() const {
  json::object o;
  o["records"] = records;
  o["already_ended"] = to_array(already_ended);
  return o;
}

KillReply KillReply::from_json(json::value v) {
  KillReply r;
  auto* records = v.is_object() ? v.get_object().if_contains("records") : nullptr;
  if (records && records->is_array()) r.records = std::move(records->get_array());
  r.already_ended = get_strings(v, "already_ended");
  return r;
}

json::object RmRequest::to_json() const {
  json::object o;
  o["ids"] = to_array(ids);
  o["force"] = force;
  return o;
}

Result<RmRequest> RmRequest::from_json(const json::object& o) {
  RmRequest r;
  auto ids = ids_at(o);
  if (!ids) return ids.error();
  r.ids = std::move(*ids);
  if (r.ids.empty()) return make_error(Errc::usage, "name the processes to remove");
  r.force = get_bool(o, "force");
  return r;
}

json::value RmReply::to_json() const { return json::object{{"removed", to_array(removed)}}; }

RmReply RmReply::from_json(const json::value& v) { return RmReply{get_strings(v, "removed")}; }

json::object StatsRequest::to_json() const {
  json::object o;
  o["ids"] = to_array(ids);
  return o;
}

Result<StatsRequest> StatsRequest::from_json(const json::object& o) {
  StatsRequest r;
  auto ids = ids_at(o);
  if (!ids) return ids.error();
  r.ids = std::move(*ids);
  return r;
}

}  // namespace sbx::proto
