#include "common/result.hpp"

namespace sbx {

const char* error_code_name(Errc c) {
  switch (c) {
    case Errc::failed:
      return "failed";
    case Errc::usage:
      return "usage";
    case Errc::not_found:
      return "not_found";
    case Errc::timeout:
      return "timeout";
    case Errc::conflict:
      return "conflict";
    case Errc::protocol:
      return "protocol";
    case Errc::unavailable:
      return "unavailable";
    case Errc::not_started:
      return "not_started";
  }
  return "failed";
}

Errc error_code_from_name(const std::string& name) {
  for (Errc c : {Errc::failed, Errc::usage, Errc::not_found, Errc::timeout, Errc::conflict,
                 Errc::protocol, Errc::unavailable, Errc::not_started}) {
    if (name == error_code_name(c)) return c;
  }
  return Errc::failed;
}

}  // namespace sbx
