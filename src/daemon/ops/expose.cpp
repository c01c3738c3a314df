// expose, unexpose, expose_list: the preview proxy's exposures (daemon/proxy/).

#include <boost/json/array.hpp>

#include "daemon/ops/ops.hpp"
#include "daemon/proxy/proxy.hpp"
#include "proto/requests_expose.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

json::value info(const Proxy& proxy, const Exposure& e) {
  return proto::ExposureInfo{e.name, e.id, e.port, preview_url(e.name, proxy.port()), proxy.port()}
      .to_json();
}

json::value infos(const Proxy& proxy, const std::vector<Exposure>& list) {
  json::array a;
  for (const auto& e : list) a.push_back(info(proxy, e));
  return a;
}

}  // namespace

void op_expose(Context& ctx, const proto::ExposeRequest& req, const ConnPtr& conn) {
  auto added = ctx.proxy->expose(req.id, req.port, req.name);
  if (!added) return conn->reply(added.error());
  conn->reply(info(*ctx.proxy, *added));
}

void op_unexpose(Context& ctx, const proto::UnexposeRequest& req, const ConnPtr& conn) {
  // An id that has none is no error (nothing to end); an id nobody has is.
  if (!ctx.supervisor.find(req.id) && !ctx.supervisor.recently_removed(req.id)) {
    if (auto found = ctx.supervisor.lookup(req.id); !found) return conn->reply(found.error());
  }
  conn->reply(infos(*ctx.proxy, ctx.proxy->unexpose(req.id, req.port)));
}

void op_expose_list(Context& ctx, const proto::ExposeListRequest&, const ConnPtr& conn) {
  conn->reply(infos(*ctx.proxy, ctx.proxy->exposures()));
}

}  // namespace sbx::daemon
