#pragma once
// JSON written as text, byte for byte as boost::json::serialize writes the same value, for
// replies built without a value tree (ps --json of thousands of records).

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace sbx {

/// `s` as a JSON string, quotes included: `"` and `\` escaped, control characters as \b \t
/// \n \f \r or \u00xx; every other byte as it is (the caller passes UTF-8).
void append_json_string(std::string& out, std::string_view s);

template <class Int>
requires std::is_integral_v<Int>
void append_json_int(std::string& out, Int v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

/// `"key":`, after a comma unless it is an object's first key (`out` ends with '{').
void append_json_key(std::string& out, std::string_view key);

}  // namespace sbx
