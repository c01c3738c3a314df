#pragma once
// The options of sbx logs, shared by its one-process and several-process forms.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {

struct LogsArgs {
  std::vector<std::string> ids;
  std::string session;  ///< empty: not given
  bool all = false;
  bool only_stdout = false;
  bool only_stderr = false;
  std::optional<std::int64_t> tail;
  bool follow = false;
  bool json = false;
  bool timestamps = false;
  std::string since;  ///< empty: not given
  std::string until;
  /// Several processes at once (prefixed lines), rather than one as it wrote.
  bool many() const { return all || !session.empty() || ids.size() > 1; }
};

/// For sbx up --exit-from, which prints among its progress lines and waits for one id.
struct ManyHooks {
  std::function<void(int fd, std::string_view bytes)> out;  ///< where lines go; default: emit
  std::function<void(const std::string& id)> on_end;        ///< all of its output was printed
  std::size_t width = 0;  ///< pad the ids to at least this (the names to come)
  /// With --session or --all: whether to follow this id now; one not taken is asked about
  /// again at the next look (up --exit-from takes only what it started, not the last run).
  std::function<bool(const std::string& id)> take;
};

/// sbx logs of several processes: `base` is the request of each, but for its id.
Result<int> run_logs_many(const LogsArgs& a, const proto::LogsRequest& base,
                          const ManyHooks& hooks = {});

}  // namespace sbx::cli
