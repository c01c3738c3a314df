#pragma once
// Why a readiness wait failed is often in what the process wrote last: after the one-line
// error of a wait that failed because the process ended, its last lines on stderr.

#include <string>

namespace sbx::cli {

/// How many lines of output a failed readiness wait shows.
inline constexpr int kLastLines = 20;

/// When `id` has ended: its last kLastLines lines of output, stdout and stderr as
/// `sbx logs ID -n N` gives them, on stderr, after a line that says what they are, each
/// framed by "  | " so that a reader sees where they begin and end. Nothing while it
/// runs, and a short line when it wrote nothing.
void print_last_lines(const std::string& id);

}  // namespace sbx::cli
