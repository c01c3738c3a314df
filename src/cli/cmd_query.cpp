// ps, status, show: reading records.

#include <boost/json/array.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "proto/bytes.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

Result<ProcessRecord> fetch_record(const std::string& id) {
  if (auto st = check_id(id); !st) return st.error();
  auto client = Client::connect();
  if (!client) return client.error();
  json::object args;
  args["id"] = id;
  auto v = client->call("show", std::move(args));
  if (!v) return v.error();
  return record_from_json(*v);
}

}  // namespace

int run_ps(const PsArgs& a) {
  if (!a.status.empty() && !parse_status(a.status)) {
    return report_usage("unknown status '" + a.status +
                        "': use starting, running, completed, failed, killed or error");
  }
  auto client = Client::connect(!a.no_start);
  if (!client) return a.no_start ? kExitOk : report(client.error());  // --no-start: quiet, for completion
  json::object args;
  if (!a.session.empty()) args["session"] = proto::bytes_to_json(a.session);
  if (!a.status.empty()) args["status"] = a.status;
  if (!a.json) args["brief"] = true;  // the table and -q need a few keys only
  auto v = client->call("ps", std::move(args));
  if (!v) return report(v.error());
  if (a.json) {
    print_json(*v);
    return kExitOk;
  }
  if (!v->is_array()) return report(Error{Errc::protocol, "ps: unexpected reply from sbxd"});
  std::vector<ProcessRecord> records;
  records.reserve(v->get_array().size());
  for (const auto& e : v->get_array()) {
    auto r = record_from_json(e);
    if (r) records.push_back(std::move(*r));
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

int run_status(const ShowArgs& a) {
  auto r = fetch_record(a.id);
  if (!r) return report(r.error());
  write_out(1, std::string(status_name(r->status)) + "\n");
  return kExitOk;
}

int run_show(const ShowArgs& a) {
  if (a.json) {
    auto r = fetch_record(a.id);
    if (!r) return report(r.error());
    print_json(record_to_json(*r));
    return kExitOk;
  }
  if (auto st = check_id(a.id); !st) return report(st.error());
  auto client = Client::connect();
  if (!client) return report(client.error());
  json::object args;
  args["id"] = a.id;
  args["format"] = "toml";
  auto v = client->call("show", std::move(args));
  if (!v) return report(v.error());
  const auto* toml = v->is_object() ? v->get_object().if_contains("toml") : nullptr;
  if (!toml || !toml->is_string()) return report(Error{Errc::protocol, "show: unexpected reply from sbxd"});
  write_out(1, std::string(toml->get_string()));
  return kExitOk;
}

}  // namespace sbx::cli
