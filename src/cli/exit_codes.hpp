#pragma once
// Exit codes of sbx: the table of README and sbx(1) EXIT STATUS.

#include <string>

#include "common/result.hpp"

namespace sbx::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitTimeout = 124;
/// A waiting command lost its daemon and no daemon answered again in time: sbx itself
/// could not get the answer (as docker and timeout(1) use 125).
inline constexpr int kExitNoDaemon = 125;

int exit_code_for(Errc c);

/// Prints "sbx: MESSAGE" on stderr and returns the exit code for `e`.
int report(const Error& e);
int report_usage(const std::string& message);

}  // namespace sbx::cli
