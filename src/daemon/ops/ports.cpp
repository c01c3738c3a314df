// The ports op, and the listeners of a tree that ps records carry too.

#include <boost/json/array.hpp>

#include "common/proc.hpp"
#include "daemon/ops/ops.hpp"
#include "daemon/ops/tree_ports.hpp"

namespace sbx::daemon {
namespace json = boost::json;

std::vector<proto::PortEntry> tree_ports(const std::vector<pid_t>& tree, ListenerScan& scan) {
  std::vector<proto::PortEntry> out;
  for (const auto& h : scan.of(tree)) {
    out.push_back(proto::PortEntry{h.listener.port, h.listener.proto, h.listener.address, h.pid,
                                   process_command(h.pid)});
  }
  return out;
}

void op_ports(Context& ctx, const proto::PortsRequest& req, const ConnPtr& conn) {
  auto found = ctx.supervisor.lookup(req.id);
  if (!found) return conn->reply(found.error());
  ListenerScan scan(true);
  json::array out;
  for (const auto& e : tree_ports(ctx.supervisor.tree_pids(**found), scan))
    out.emplace_back(e.to_json());
  conn->reply(json::value(std::move(out)));
}

}  // namespace sbx::daemon
