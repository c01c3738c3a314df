#pragma once
#include <string>

#include "common/fd.hpp"
#include "common/result.hpp"

namespace sbx::daemon {

/// A non-blocking, close-on-exec Unix stream socket listening at `socket_path` (mode 0600),
/// replacing what was there. The path appears only once the socket listens, so a client
/// that finds it is never refused by a daemon that is still starting.
Result<UniqueFd> listen_unix(const std::string& socket_path);

}  // namespace sbx::daemon
