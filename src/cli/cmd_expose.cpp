// expose, unexpose: preview URLs of a process's ports, served by sbxd's proxy.

#include <algorithm>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/host.hpp"
#include "cli/output.hpp"
#include "common/ids.hpp"
#include "proto/requests_expose.hpp"

namespace sbx::cli {

namespace {

struct ExposeArgs {
  std::string id;
  std::optional<int> port;
  std::string name;
  bool list = false;
  bool json = false;
};

/// NAME ID PORT URL, aligned.
std::string format_exposures(const std::vector<proto::ExposureInfo>& list) {
  std::vector<std::array<std::string, 4>> rows{{"NAME", "ID", "PORT", "URL"}};
  for (const auto& e : list) rows.push_back({e.name, e.id, std::to_string(e.port), e.url});
  std::array<std::size_t, 4> width{};
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < 3; ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < 3; ++i) out += r[i] + std::string(width[i] - r[i].size() + 2, ' ');
    out += r[3] + "\n";
  }
  return out;
}

Result<int> run_expose_list(const ExposeArgs& a) {
  if (!a.id.empty() || a.port || !a.name.empty())
    return make_error(Errc::usage, "--list takes no ID, PORT or --name: use 'sbx expose --list'");
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::ExposeListRequest::kOp, {});
  if (!v) return v.error();
  if (a.json) {
    print_json(*v);
    return kExitOk;
  }
  write_out(1, format_exposures(proto::exposures_from_json(*v)));
  return kExitOk;
}

Result<int> run_expose(const ExposeArgs& a) {
  if (a.list) return run_expose_list(a);
  if (a.id.empty() || !a.port)
    return make_error(Errc::usage, "expose needs ID and PORT: 'sbx expose web 5173' (or --list)");
  proto::ExposeRequest req{a.id, *a.port, std::nullopt};
  if (!a.name.empty()) req.name = a.name;
  auto args = proto::checked_json(req);
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::ExposeRequest::kOp, std::move(*args));
  if (!v) return v.error();
  auto e = proto::ExposureInfo::from_json(*v);
  if (!e) return e.error();
  // The URL is the other host's: say how to bring its proxy here (on stderr, so that
  // url=$(sbx expose ...) still gets the URL alone).
  std::string tunnel;
  if (talking_to_remote() && e->proxy_port && target_host())
    tunnel = tunnel_command(*target_host(), e->proxy_port);
  if (a.json) {
    auto o = v->as_object();
    if (!tunnel.empty()) o["tunnel"] = tunnel;
    print_json(o);
    return kExitOk;
  }
  write_out(1, e->url + "\n");
  if (!tunnel.empty())
    write_out(2, "sbx: the URL is " + target_host()->name() +
                     "'s; to open it here, run: " + tunnel + "\n");
  return kExitOk;
}

struct UnexposeArgs {
  std::string id;
  std::optional<int> port;
};

Result<int> run_unexpose(const UnexposeArgs& a) {
  auto args = proto::checked_json(proto::UnexposeRequest{a.id, a.port});
  if (!args) return args.error();
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::UnexposeRequest::kOp, std::move(*args));
  if (!v) return v.error();
  return kExitOk;
}

}  // namespace

void define_expose(CommandDef& parent) {
  auto a = std::make_shared<ExposeArgs>();
  auto expose =
      parent.add("expose", "Serve a process's port at a preview URL: http://NAME.localhost:PROXY/",
                 "sbx expose [OPTIONS] ID PORT\n  sbx expose --list [--json]",
                 "sbx expose web 5173              (prints http://5173-web.localhost:7780/)\n"
                 "  sbx expose web 5173 --name app   (http://app.localhost:7780/)\n"
                 "  curl -H 'Host: 5173-web.localhost' http://127.0.0.1:7780/");
  expose.runs([a] { return run_expose(*a); });
  expose.option("id", a->id, "process id").type_name("ID");
  expose.option("port", a->port, "its TCP port (1024-65535)").type_name("PORT");
  expose.option("--name", a->name, "the host's first label (default PORT-ID)").type_name("NAME");
  expose.flag("--list", a->list, "list the exposures: NAME, ID, PORT, URL");
  expose.flag("--json", a->json, "print JSON");
}

void define_unexpose(CommandDef& parent) {
  auto a = std::make_shared<UnexposeArgs>();
  auto unexpose = parent.add("unexpose",
                             "End a process's exposures (of PORT only, when given); "
                             "nothing exposed is no error",
                             "sbx unexpose ID [PORT]", "sbx unexpose web\n  sbx unexpose web 5173");
  unexpose.runs([a] { return run_unexpose(*a); });
  unexpose.option("id", a->id, "process id").required().type_name("ID");
  unexpose.option("port", a->port, "only this port").type_name("PORT");
}

}  // namespace sbx::cli
