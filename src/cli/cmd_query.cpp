// ps, status, show: reading records.

#include <boost/json/array.hpp>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct PsArgs {
  std::string session;
  std::vector<std::string> status;  ///< status words, live, ended
  bool quiet = false;
  bool json = false;
  bool no_start = false;  ///< hidden --no-start: print nothing when no daemon runs (completion)
};

struct ShowArgs {
  std::string id;
  bool json = false;
};

/// The record of `id` as sbxd sends it; with `ports`, with the ports of its tree.
Result<boost::json::value> fetch_record_json(const std::string& id, bool ports) {
  auto args = proto::checked_json(proto::ShowRequest{id, false, ports});
  if (!args) return args.error();
  if (auto st = check_id(id); !st) return st.error();
  auto client = Client::connect();
  if (!client) return client.error();
  return client->call(proto::ShowRequest::kOp, std::move(*args));
}

Result<ProcessRecord> fetch_record(const std::string& id) {
  auto v = fetch_record_json(id, false);
  if (!v) return v.error();
  return record_from_json(*v);
}

Result<int> run_ps(const PsArgs& a) {
  proto::PsRequest req;
  if (!a.session.empty()) req.session = a.session;
  req.status = a.status;
  req.brief = !a.json;  // the table and -q need a few keys only
  auto args = proto::checked_json(req);
  if (!args) return args.error();
  auto client = Client::connect(!a.no_start);
  if (!client) {
    if (a.no_start) return kExitOk;  // --no-start: quiet, for completion
    return client.error();
  }
  if (a.json) {  // printed as sbxd wrote it: the same bytes print_json would make
    auto text = client->call_text(proto::PsRequest::kOp, std::move(*args));
    if (!text) return text.error();
    *text += '\n';
    write_out(1, *text);
    return kExitOk;
  }
  auto v = client->call(proto::PsRequest::kOp, std::move(*args));
  if (!v) return v.error();
  if (!v->is_array()) return Error{Errc::protocol, "ps: unexpected reply from sbxd"};
  std::vector<ProcessRecord> records;
  records.reserve(v->get_array().size());
  for (const auto& e : v->get_array()) {
    if (!record_from_json(e, records.emplace_back())) records.pop_back();
  }
  if (a.quiet) {
    std::string out;
    for (const auto& r : records) out += r.id + "\n";
    write_out(1, out);
    return kExitOk;
  }
  write_out(1, format_ps_table(records, table_style_for(1)));
  return kExitOk;
}

Result<int> run_status(const ShowArgs& a) {
  auto r = fetch_record(a.id);
  if (!r) return r.error();
  write_out(1, std::string(status_name(r->status)) + "\n");
  return kExitOk;
}

Result<int> run_show(const ShowArgs& a) {
  if (a.json) {
    auto v = fetch_record_json(a.id, true);
    if (!v) return v.error();
    auto r = record_from_json(*v);
    if (!r) return r.error();
    auto o = record_to_json(*r);
    const auto* ports = v->is_object() ? v->get_object().if_contains("ports") : nullptr;
    o["ports"] = ports ? *ports : boost::json::array();
    print_json(o);
    return kExitOk;
  }
  auto args = proto::checked_json(proto::ShowRequest{a.id, true});
  if (!args) return args.error();
  if (auto st = check_id(a.id); !st) return st.error();
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::ShowRequest::kOp, std::move(*args));
  if (!v) return v.error();
  auto reply = proto::ShowTomlReply::from_json(*v);
  if (!reply) return Error{Errc::protocol, "show: unexpected reply from sbxd"};
  write_out(1, reply->toml);
  return kExitOk;
}

}  // namespace

void define_ps(CommandDef& parent) {
  auto a = std::make_shared<PsArgs>();
  auto ps = parent.add("ps", "List processes, live and ended", "sbx ps [OPTIONS]",
                       "sbx ps --status running -q\n  sbx ps --status live,completed");
  ps.runs([a] { return run_ps(*a); });
  ps.option("--session", a->session, "only this session").type_name("SESSION");
  ps.option("--status", a->status,
            "only these statuses, comma-separated: starting, running, completed, failed, killed, "
            "error, "
            "live (starting or running), ended (the others)")
      .split_on(',')
      .one_value_each()
      .type_name("STATUS");
  ps.flag("-q,--quiet", a->quiet, "print ids only");
  ps.flag("--json", a->json, "print a JSON array of records");
  // For shell completion: when no daemon runs, print nothing and exit 0 instead of starting one.
  ps.flag("--no-start", a->no_start, "do not start a daemon; print nothing when none runs")
      .hidden();
}

void define_status(CommandDef& parent) {
  auto a = std::make_shared<ShowArgs>();
  auto status =
      parent.add("status", "Print a process's status word", "sbx status ID", "sbx status web");
  status.runs([a] { return run_status(*a); });
  status.option("id", a->id, "process id").required().type_name("ID");
}

void define_show(CommandDef& parent) {
  auto a = std::make_shared<ShowArgs>();
  auto show = parent.add("show", "Print a process's whole record", "sbx show [OPTIONS] ID",
                         "sbx show web --json");
  show.runs([a] { return run_show(*a); });
  show.option("id", a->id, "process id").required().type_name("ID");
  show.flag("--json", a->json, "print JSON instead of TOML");
}

}  // namespace sbx::cli
