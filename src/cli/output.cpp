#include "cli/output.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <cerrno>

#include "common/clock.hpp"

namespace sbx::cli {

void print_json(const boost::json::value& v) {
  std::string s = boost::json::serialize(v);
  s += '\n';
  write_out(1, s);
}

bool write_out(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string format_ps_table(const std::vector<ProcessRecord>& records) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows;
  rows.reserve(records.size() + 1);
  rows.push_back({"ID", "PID", "STATUS", "EXIT", "STARTED", "COMMAND"});
  for (const auto& r : records) {
    std::string exit = r.exit_code ? std::to_string(*r.exit_code) : r.signal ? *r.signal : "-";
    rows.push_back({r.id, r.pid ? std::to_string(*r.pid) : "-", status_name(r.status), exit,
                    r.start_time ? format_rfc3339(*r.start_time) : "-", r.command});
  }
  std::array<std::size_t, 6> width{};
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace sbx::cli
