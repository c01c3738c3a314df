#include "daemon/proxy/routes.hpp"

#include <algorithm>

#include "common/defaults.hpp"

namespace sbx::daemon {

namespace {

constexpr std::string_view kLocalhost = ".localhost";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<Exposure> Routes::add(const std::string& id, int port, std::string_view name) {
  std::string key = lower(name);
  for (const auto& e : list_) {
    if (e.name == key && (e.id != id || e.port != port)) {
      return make_error(Errc::conflict, "the name '" + key + "' is taken by port " +
                                            std::to_string(e.port) + " of '" + e.id +
                                            "': choose another with --name");
    }
  }
  remove(id, port);
  Exposure added{key, id, port};
  auto at = std::lower_bound(list_.begin(), list_.end(), key,
                             [](const Exposure& e, const std::string& k) { return e.name < k; });
  list_.insert(at, added);
  return added;
}

std::vector<Exposure> Routes::remove(const std::string& id, std::optional<int> port) {
  std::vector<Exposure> removed;
  std::erase_if(list_, [&](const Exposure& e) {
    bool match = e.id == id && (!port || e.port == *port);
    if (match) removed.push_back(e);
    return match;
  });
  return removed;
}

const Exposure* Routes::route(std::string_view host_header) const {
  auto name = name_of_host(host_header);
  if (!name) return nullptr;
  for (const auto& e : list_) {
    if (e.name == *name) return &e;
  }
  return nullptr;
}

bool Routes::has(const std::string& id) const {
  return std::any_of(list_.begin(), list_.end(), [&](const Exposure& e) { return e.id == id; });
}

std::string default_expose_name(int port, const std::string& id) {
  return lower(std::to_string(port) + "-" + id);
}

std::optional<std::string> name_of_host(std::string_view host) {
  while (!host.empty() && (host.front() == ' ' || host.front() == '\t')) host.remove_prefix(1);
  while (!host.empty() && (host.back() == ' ' || host.back() == '\t')) host.remove_suffix(1);
  if (host.empty() || host.front() == '[') return std::nullopt;  // an IPv6 address
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string h = lower(host);
  if (h.size() > kLocalhost.size() && h.ends_with(kLocalhost))
    h.resize(h.size() - kLocalhost.size());
  if (h.empty() || h == "localhost") return std::nullopt;
  return h;
}

Status check_expose_port(int port, int proxy_port) {
  if (port < kMinExposePort || port > kMaxPort) {
    return make_error(Errc::usage, "port " + std::to_string(port) + " is reserved: expose a port " +
                                       std::to_string(kMinExposePort) + "-" +
                                       std::to_string(kMaxPort));
  }
  if (proxy_port != 0 && port == proxy_port) {
    return make_error(Errc::usage, "port " + std::to_string(port) +
                                       " is reserved: it is the proxy's own (SBX_PROXY_PORT)");
  }
  return ok_status();
}

std::string preview_url(const std::string& name, int proxy_port) {
  return "http://" + name + std::string(kLocalhost) + ":" + std::to_string(proxy_port) + "/";
}

}  // namespace sbx::daemon
