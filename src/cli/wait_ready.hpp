#pragma once
// Building wait-log and wait-port requests, shared by those commands and start --wait-*.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "cli/client.hpp"
#include "common/result.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {

struct WaitPortArgs {
  std::string id;
  std::optional<int> port;  ///< none: the first TCP port the tree listens on
  bool any_owner = false;   ///< ready once anything accepts, not only the tree
  std::string host;         ///< empty: 127.0.0.1 and ::1
  std::string http;         ///< empty: plain TCP
  std::string status;       ///< CODE or LO-HI; default 200-399
  std::string interval;
  std::string timeout;
};

Result<proto::WaitLogRequest> wait_log_request(const std::string& id, const std::string& pattern,
                                               bool regex, const std::string& stream,
                                               const std::string& timeout);
Result<proto::WaitPortRequest> wait_port_request(const WaitPortArgs& a);
/// What a progress line says after "waiting for ": "web: log 'Listening on'",
/// "web: port 8000 (GET /health)".
std::string wait_label(const proto::WaitLogRequest& request);
std::string wait_label(const proto::WaitPortRequest& request);
/// Runs a wait_log or wait_port request to its answer, with a progress line, over `first`
/// or a new connection, riding through daemon restarts (WaitingCall): a wait-log resumes
/// from the start of the line it had not finished scanning. Returns kExitOk with `answer`
/// set, or prints the error and returns the exit code.
int wait_ready(const proto::WaitLogRequest& request, std::optional<Client> first,
               boost::json::value& answer);
int wait_ready(const proto::WaitPortRequest& request, std::optional<Client> first,
               boost::json::value& answer);
/// The same over a new connection, printing nothing: the answer or the error (unavailable
/// when no daemon answered in time).
Result<boost::json::value> await_ready(const proto::WaitLogRequest& request);
Result<boost::json::value> await_ready(const proto::WaitPortRequest& request);

}  // namespace sbx::cli
