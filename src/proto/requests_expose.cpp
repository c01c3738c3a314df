#include "proto/requests_expose.hpp"

#include <boost/json/array.hpp>

#include "common/defaults.hpp"
#include "common/ids.hpp"
#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

Result<int> port_at(const json::object& o) {
  auto p = get_opt_int(o, "port");
  if (!p) return make_error(Errc::usage, "a port is needed");
  if (auto st = check_port(*p); !st) return st.error();
  return static_cast<int>(*p);
}

}  // namespace

Status check_expose_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63;
  for (std::size_t i = 0; ok && i < name.size(); ++i) {
    bool edge = i == 0 || i + 1 == name.size();
    char c = name[i];
    ok = name_char(c) && !(edge && (c == '-' || c == '_' || c == '.'));
  }
  if (ok) return ok_status();
  return make_error(Errc::usage, "bad name '" + std::string(name) +
                                     "': use 1-63 letters, digits, '-', '_' or '.', "
                                     "starting and ending with a letter or digit");
}

json::object ExposeRequest::to_json() const {
  json::object o;
  o["id"] = id;
  o["port"] = port;
  if (name) o["name"] = *name;
  return o;
}

Result<ExposeRequest> ExposeRequest::from_json(const json::object& o) {
  ExposeRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  if (auto st = check_id(*id); !st) return st.error();
  r.id = *id;
  auto port = port_at(o);
  if (!port) return port.error();
  r.port = *port;
  r.name = get_opt_string(o, "name");
  if (r.name) {
    if (auto st = check_expose_name(*r.name); !st) return st.error();
  }
  return r;
}

json::object UnexposeRequest::to_json() const {
  json::object o;
  o["id"] = id;
  if (port) o["port"] = *port;
  return o;
}

Result<UnexposeRequest> UnexposeRequest::from_json(const json::object& o) {
  UnexposeRequest r;
  auto id = get_string(o, "id");
  if (!id) return id.error();
  if (auto st = check_id(*id); !st) return st.error();
  r.id = *id;
  if (o.contains("port")) {
    auto port = port_at(o);
    if (!port) return port.error();
    r.port = *port;
  }
  return r;
}

json::value ExposureInfo::to_json() const {
  return json::object{
      {"name", name}, {"id", id}, {"port", port}, {"url", url}, {"proxy_port", proxy_port}};
}

Result<ExposureInfo> ExposureInfo::from_json(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return make_error(Errc::protocol, "an exposure must be a JSON object");
  ExposureInfo e;
  auto name = get_string(*o, "name");
  auto id = get_string(*o, "id");
  auto url = get_string(*o, "url");
  auto port = get_opt_int(*o, "port");
  if (!name || !id || !url || !port) return make_error(Errc::protocol, "a malformed exposure");
  e.name = *name;
  e.id = *id;
  e.url = *url;
  e.port = static_cast<int>(*port);
  e.proxy_port = static_cast<int>(get_opt_int(*o, "proxy_port").value_or(0));
  return e;
}

std::vector<ExposureInfo> exposures_from_json(const json::value& v) {
  std::vector<ExposureInfo> out;
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) {
      if (auto x = ExposureInfo::from_json(e)) out.push_back(std::move(*x));
    }
  }
  return out;
}

}  // namespace sbx::proto
