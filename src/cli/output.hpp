#pragma once
// Printing: JSON, the record as TOML, the ps table, raw bytes.

#include <boost/json/value.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/record.hpp"

namespace sbx::cli {

/// One JSON value on one line of stdout.
void print_json(const boost::json::value& v);
/// print_json with fractions as people write them (97.7, where Boost.JSON writes 9.77E1):
/// slower, for small replies that carry fractions.
void print_json_readable(const boost::json::value& v);
/// Writes bytes to fd 1 or 2 in full (retrying short writes); false if the reader is gone.
bool write_out(int fd, std::string_view bytes);
/// Ends sbx as SIGPIPE ends a writer whose reader has gone (exit status 141 in a shell),
/// even where SIGPIPE is ignored or blocked: how a streaming command stops once nobody reads.
[[noreturn]] void exit_as_if_sigpipe();
/// Runs `fn` once before exit_as_if_sigpipe ends sbx (run: stop the process it runs).
void before_sigpipe_exit(std::function<void()> fn);
/// Writes all of `bytes`; a reader that has gone ends sbx as SIGPIPE would.
void emit(int fd, std::string_view bytes);
/// How the ps table looks: plain for pipes and files; on a terminal, coloured status
/// words and STARTED as "5s ago".
struct TableStyle {
  bool color = false;
  bool relative_time = false;
  EpochMs now = 0;  ///< for relative_time
};

/// The style for a table printed on fd: relative times on a terminal; colour on a
/// terminal unless NO_COLOR is set (to anything but "") or TERM is dumb.
TableStyle table_style_for(int fd);

/// "5s ago", "3m ago", "2h ago", "3d ago".
std::string format_ago(EpochMs then, EpochMs now);

/// The ps table: ID PID STATUS EXIT STARTED COMMAND, aligned (escape codes take no room);
/// the bytes of a COMMAND that are not UTF-8 read \xNN.
std::string format_ps_table(const std::vector<ProcessRecord>& records,
                            const TableStyle& style = {});

/// Rows of cells aligned in columns two spaces apart, the last column unpadded.
std::string format_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace sbx::cli
