#pragma once
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// A process id: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`. Ids name files under STATE, so this
/// check is also what keeps a client from reaching outside the state folder.
bool is_valid_id(std::string_view id);

/// Usage error that says what a valid id looks like, or ok.
Status check_id(std::string_view id);

}  // namespace sbx
