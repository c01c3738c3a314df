// rm and prune: forgetting ended processes.

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/ids.hpp"
#include "proto/ops.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {

namespace {

struct RmArgs {
  std::vector<std::string> ids;
  bool force = false;
};

Result<int> run_rm(const RmArgs& a) {
  auto args = proto::checked_json(proto::RmRequest{a.ids, a.force});
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::RmRequest::kOp, std::move(*args));
  if (!v) return v.error();
  return kExitOk;
}

Result<int> run_prune() {
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::PruneRequest::kOp, {});
  if (!v) return v.error();
  std::string out;
  for (const auto& id : proto::RmReply::from_json(*v).removed) out += id + "\n";
  write_out(1, out);
  return kExitOk;
}

}  // namespace

void define_rm(CommandDef& parent) {
  auto a = std::make_shared<RmArgs>();
  auto rm =
      parent.add("rm", "Forget ended processes: their records and logs", "sbx rm [OPTIONS] ID...",
                 "sbx rm build\n  sbx rm -f web    (kills it first)");
  rm.runs([a] { return run_rm(*a); });
  rm.option("ids", a->ids, "process ids").required().type_name("ID");
  rm.flag("-f,--force", a->force, "kill live processes first (SIGKILL to the tree)");
}

void define_prune(CommandDef& parent) {
  parent.add("prune", "Forget every ended process; print the ids removed", "sbx prune", "sbx prune")
      .runs([] { return run_prune(); });
}

}  // namespace sbx::cli
