#include "cli/exit_codes.hpp"

#include <cstdio>

namespace sbx::cli {

int exit_code_for(Errc c) {
  switch (c) {
    case Errc::usage:
      return kExitUsage;
    case Errc::not_found:
      return kExitNotFound;
    case Errc::timeout:
      return kExitTimeout;
    case Errc::failed:
    case Errc::conflict:
    case Errc::protocol:
    case Errc::unavailable:
    case Errc::not_started:
      return kExitFailed;
  }
  return kExitFailed;
}

int report(const Error& e) {
  std::fprintf(stderr, "sbx: %s\n", e.message.c_str());
  return exit_code_for(e.code);
}

int report_usage(const std::string& message) { return report(Error{Errc::usage, message}); }

}  // namespace sbx::cli
