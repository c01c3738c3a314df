#pragma once
// JSON bodies of frames: the one place that builds and reads HELLO, RESPONSE and END.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::proto {

Result<boost::json::value> parse_json(std::string_view text);

std::string hello_payload(std::string_view who);
/// Checks a peer's HELLO: the protocol version must be ours. A mismatch names both versions
/// (the peer's "name", else `peer_name`, then `where`, " on HOST") and what to do.
inline constexpr std::string_view kLocalMismatchRemedy =
    "run 'sbx daemon stop' and retry, or use matching versions";
Status check_hello(std::string_view payload, std::string_view peer_name,
                   std::string_view where = {}, std::string_view remedy = kLocalMismatchRemedy);

/// {"ok":true,"result":R}, serialized straight from `result` (no copy of it).
std::string ok_payload(const boost::json::value& result);
/// The same around `result`, JSON text its writer made (a record's: common/record_json.hpp).
std::string ok_payload_text(std::string_view result);
std::string error_payload(const Error& e);
/// {"ok":true,"result":R} -> R;  {"ok":false,"error":{...}} -> that Error.
Result<boost::json::value> decode_reply(std::string_view payload);
/// As decode_reply, but R stays text, exactly as the daemon serialized it (checked to be one
/// JSON value), put in `text`; returns null. `ps --json` prints it without building and
/// serializing a tree again.
Result<boost::json::value> decode_reply_text(std::string_view payload, std::string& text);

/// Typed getters for request arguments: usage errors that name the key.
Result<std::string> get_string(const boost::json::object& o, const char* key);
std::optional<std::string> get_opt_string(const boost::json::object& o, const char* key);
std::optional<std::int64_t> get_opt_int(const boost::json::object& o, const char* key);
bool get_bool(const boost::json::object& o, const char* key, bool fallback = false);

/// A list of plain strings (ids, hosts) as a JSON array, and back out of a reply: what is
/// missing, or not a string, reads as nothing.
boost::json::array to_array(const std::vector<std::string>& v);
std::vector<std::string> get_strings(const boost::json::value& v, const char* key);

}  // namespace sbx::proto
