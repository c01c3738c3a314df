// rm and prune: forgetting ended processes.

#include <boost/json/array.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/ids.hpp"

namespace sbx::cli {
namespace json = boost::json;

int run_rm(const RmArgs& a) {
  json::array ids;
  for (const auto& id : a.ids) {
    if (auto st = check_id(id); !st) return report(st.error());
    ids.emplace_back(id);
  }
  json::object args;
  args["ids"] = std::move(ids);
  args["force"] = a.force;
  auto client = Client::connect();
  if (!client) return report(client.error());
  auto v = client->call("rm", std::move(args));
  if (!v) return report(v.error());
  return kExitOk;
}

int run_prune() {
  auto client = Client::connect();
  if (!client) return report(client.error());
  auto v = client->call("prune", {});
  if (!v) return report(v.error());
  std::string out;
  if (const auto* removed = v->is_object() ? v->get_object().if_contains("removed") : nullptr; removed && removed->is_array()) {
    for (const auto& id : removed->get_array()) {
      if (id.is_string()) out += std::string(id.get_string()) + "\n";
    }
  }
  write_out(1, out);
  return kExitOk;
}

}  // namespace sbx::cli
