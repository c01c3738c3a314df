#pragma once
// The exposures of the preview proxy: which name (the first label of NAME.localhost) leads
// to which process's port. No Asio here: the op handlers and the HTTP sessions share it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::daemon {

struct Exposure {
  std::string name;  ///< lower-case
  std::string id;
  int port = 0;
};

class Routes {
 public:
  /// Exposes `port` of `id` as `name`: (id, port) is one exposure, so asking again renames
  /// it. A name that another exposure has is a conflict.
  Result<Exposure> add(const std::string& id, int port, std::string_view name);
  /// Removes the exposures of `id` (only that port's, when given); returns them.
  std::vector<Exposure> remove(const std::string& id, std::optional<int> port = std::nullopt);
  /// The exposure a request's Host header names, if any.
  const Exposure* route(std::string_view host_header) const;
  const std::vector<Exposure>& all() const { return list_; }  ///< ordered by name
  bool empty() const { return list_.empty(); }
  bool has(const std::string& id) const;

 private:
  std::vector<Exposure> list_;
};

/// PORT-ID, lower-case: the name of an exposure given none.
std::string default_expose_name(int port, const std::string& id);
/// The name in a Host header: "5173-web.localhost:7780" -> "5173-web" (without case, a
/// trailing dot and the port; a bare "5173-web" is that name too); none for a host that
/// names no exposure (an address, another domain).
std::optional<std::string> name_of_host(std::string_view host_header);
/// Ports below kMinExposePort and the proxy's own (when known, not 0) are reserved.
Status check_expose_port(int port, int proxy_port);
std::string preview_url(const std::string& name, int proxy_port);

}  // namespace sbx::daemon
