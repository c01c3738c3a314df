#pragma once
// Printing: JSON, the record as TOML, the ps table, raw bytes.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/record.hpp"

namespace sbx::cli {

/// One JSON value on one line of stdout.
void print_json(const boost::json::value& v);
/// Writes bytes to fd 1 or 2 in full (retrying short writes); false if the reader is gone.
bool write_out(int fd, std::string_view bytes);
/// The ps table: ID PID STATUS EXIT STARTED COMMAND, aligned.
std::string format_ps_table(const std::vector<ProcessRecord>& records);

}  // namespace sbx::cli
