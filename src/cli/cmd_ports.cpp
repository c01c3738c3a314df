// ports: the TCP and UDP ports a process's tree listens on.

#include <boost/json/array.hpp>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/utf8.hpp"
#include "proto/ops.hpp"
#include "proto/requests_ports.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

struct PortsArgs {
  std::string id;
  bool json = false;
};

Result<int> run_ports(const PortsArgs& a) {
  auto args = proto::checked_json(proto::PortsRequest{a.id});
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::PortsRequest::kOp, std::move(*args));
  if (!v) return v.error();
  if (a.json) {
    print_json(*v);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{{"PORT", "PROTO", "ADDRESS", "PID", "COMMAND"}};
  for (const auto& e : proto::port_entries_from_json(*v)) {
    rows.push_back(
        {std::to_string(e.port), e.proto, e.address, std::to_string(e.pid), one_line(e.command)});
  }
  write_out(1, format_columns(rows));
  return kExitOk;
}

}  // namespace

void define_ports(CommandDef& parent) {
  auto a = std::make_shared<PortsArgs>();
  auto ports =
      parent.add("ports", "List the TCP and UDP ports a process and its children listen on",
                 "sbx ports [OPTIONS] ID", "sbx ports web\n  sbx ports web --json");
  ports.runs([a] { return run_ports(*a); });
  ports.option("id", a->id, "process id").required().type_name("ID");
  ports.flag("--json", a->json,
             "print a list of {\"port\",\"proto\",\"address\",\"pid\",\"command\"}");
}

}  // namespace sbx::cli
