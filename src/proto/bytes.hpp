#pragma once
// Byte strings (argv, environment values, paths, shell lines) in JSON and TOML, which carry
// only Unicode text. A string that is valid UTF-8 stays a plain string, so text looks as
// it always did; any other is the object {"base64": "..."} (in TOML the inline table
// { base64 = "..." }), so every byte arrives as it left. Readers take both forms.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sbx::proto {

/// The one key of the tagged form.
inline constexpr std::string_view kBytesKey = "base64";

/// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);
/// nullopt unless `text` is canonical padded base64 (what base64_encode writes).
std::optional<std::string> base64_decode(std::string_view text);

/// A plain JSON string when `bytes` is UTF-8, else {"base64": "..."}.
boost::json::value bytes_to_json(std::string_view bytes, boost::json::storage_ptr sp = {});
/// bytes_to_json as text, as boost::json::serialize would write it.
void append_bytes_json(std::string& out, std::string_view bytes);
/// A string, or the tagged form; nullopt for anything else.
std::optional<std::string> bytes_from_json(const boost::json::value& v);
/// The bytes at `key`, nullopt when absent or not bytes.
std::optional<std::string> get_opt_bytes(const boost::json::object& o, const char* key);

}  // namespace sbx::proto
