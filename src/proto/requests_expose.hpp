#pragma once
// Typed requests of the preview proxy: expose, unexpose, expose_list, and the exposure
// their replies carry. The daemon checks the ports against its proxy's (daemon/proxy/).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "proto/ops.hpp"

namespace sbx::proto {

/// A name of an exposure: the first label of its host, NAME.localhost. 1-63 letters,
/// digits and '-', '.' or '_' inside; compared without case (stored lower-case).
Status check_expose_name(std::string_view name);

struct ExposeRequest {
  static constexpr std::string_view kOp = op::expose;
  std::string id;
  int port = 0;
  std::optional<std::string> name;  ///< none: PORT-ID

  boost::json::object to_json() const;
  static Result<ExposeRequest> from_json(const boost::json::object& o);
};

struct UnexposeRequest {
  static constexpr std::string_view kOp = op::unexpose;
  std::string id;
  std::optional<int> port;  ///< none: every port of the process

  boost::json::object to_json() const;
  static Result<UnexposeRequest> from_json(const boost::json::object& o);
};

using ExposeListRequest = BareRequest<op::expose_list>;

/// One exposure as the replies carry it: expose answers one, expose_list a list,
/// unexpose the ones it removed.
struct ExposureInfo {
  std::string name;
  std::string id;
  int port = 0;
  std::string url;     ///< http://NAME.localhost:PROXY/
  int proxy_port = 0;  ///< PROXY (0: from an older daemon)

  boost::json::value to_json() const;
  static Result<ExposureInfo> from_json(const boost::json::value& v);
};

/// A reply's list of exposures; what is malformed is left out.
std::vector<ExposureInfo> exposures_from_json(const boost::json::value& v);

}  // namespace sbx::proto
