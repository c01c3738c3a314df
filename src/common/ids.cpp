#include "common/ids.hpp"

#include <string>

namespace sbx {

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return false;
  for (char c : id) {
    if (!(alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

Status check_id(std::string_view id) {
  if (is_valid_id(id)) return ok_status();
  return make_error(Errc::usage, "bad id '" + std::string(id) +
                                     "': use 1-64 letters, digits, '.', '_' or '-', "
                                     "starting with a letter or digit");
}

}  // namespace sbx
