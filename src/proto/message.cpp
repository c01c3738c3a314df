#include "proto/message.hpp"

#include <unistd.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/utf8.hpp"
#include "proto/protocol.hpp"
#include "sbx_config.h"

namespace sbx::proto {
namespace json = boost::json;

Result<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return make_error(Errc::protocol, "malformed JSON: " + ec.message());
  return v;
}

std::string hello_payload(std::string_view who) {
  json::object o;
  o["proto"] = kProtocolVersion;
  o["name"] = std::string(who) + " " SBX_VERSION;
  o["pid"] = ::getpid();
  return json::serialize(o);
}

Status check_hello(std::string_view payload, std::string_view peer_name, std::string_view where,
                   std::string_view remedy) {
  auto v = parse_json(payload);
  if (!v) return v.error();
  auto* o = v->if_object();
  auto* proto = o ? o->if_contains("proto") : nullptr;
  if (!proto || !proto->is_int64())
    return make_error(Errc::protocol, "HELLO without a protocol version");
  if (proto->get_int64() != kProtocolVersion) {
    auto name = get_opt_string(*o, "name");
    std::string who = name && !name->empty() && name->size() < 100 ? escape_non_utf8(*name)
                                                                   : std::string(peer_name);
    return make_error(Errc::protocol, who + std::string(where) + " speaks protocol " +
                                          std::to_string(proto->get_int64()) +
                                          ", this one (" SBX_VERSION ") speaks " +
                                          std::to_string(kProtocolVersion) + ": " +
                                          std::string(remedy));
  }
  return ok_status();
}

namespace {
constexpr std::string_view kOkPrefix = "{\"ok\":true,\"result\":";

/// Accepts every JSON event: json::basic_parser then only checks the syntax.
struct SyntaxOnly {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec = boost::system::error_code;
  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_array_begin(ec&) { return true; }
  bool on_array_end(std::size_t, ec&) { return true; }
  bool on_object_begin(ec&) { return true; }
  bool on_object_end(std::size_t, ec&) { return true; }
  bool on_string_part(std::string_view, std::size_t, ec&) { return true; }
  bool on_string(std::string_view, std::size_t, ec&) { return true; }
  bool on_key_part(std::string_view, std::size_t, ec&) { return true; }
  bool on_key(std::string_view, std::size_t, ec&) { return true; }
  bool on_number_part(std::string_view, ec&) { return true; }
  bool on_int64(std::int64_t, std::string_view, ec&) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, ec&) { return true; }
  bool on_double(double, std::string_view, ec&) { return true; }
  bool on_bool(bool, ec&) { return true; }
  bool on_null(ec&) { return true; }
  bool on_comment_part(std::string_view, ec&) { return true; }
  bool on_comment(std::string_view, ec&) { return true; }
};
}  // namespace

Result<json::value> decode_reply_text(std::string_view payload, std::string& text) {
  if (!payload.starts_with(kOkPrefix) || !payload.ends_with('}')) {
    auto r = decode_reply(payload);  // an error, or an ok reply this daemon did not write
    if (!r) return r.error();
    text = json::serialize(*r);
    return json::value(nullptr);
  }
  std::string_view result = payload.substr(kOkPrefix.size(), payload.size() - kOkPrefix.size() - 1);
  json::basic_parser<SyntaxOnly> parser(json::parse_options{});
  boost::system::error_code ec;
  std::size_t used = parser.write_some(false, result.data(), result.size(), ec);
  if (ec || used != result.size()) return make_error(Errc::protocol, "malformed JSON reply");
  text = std::string(result);
  return json::value(nullptr);
}

std::string ok_payload(const json::value& result) {
  std::string out(kOkPrefix);
  out += json::serialize(result);
  out += '}';
  return out;
}

std::string ok_payload_text(std::string_view result) {
  std::string out;
  out.reserve(kOkPrefix.size() + result.size() + 1);
  out += kOkPrefix;
  out += result;
  out += '}';
  return out;
}

std::string error_payload(const Error& e) {
  json::object o;
  o["ok"] = false;
  json::object err;
  err["code"] = error_code_name(e.code);
  err["message"] = escape_non_utf8(e.message);  // it may quote a path or an argument: bytes
  if (!e.id.empty()) err["id"] = e.id;          // ids are ASCII
  o["error"] = std::move(err);
  return json::serialize(o);
}

Result<json::value> decode_reply(std::string_view payload) {
  // A reply is read once and dropped whole (ps --json of thousands of records): its values
  // live in one arena that grows by whole blocks and is released at once, not node by node.
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec, json::make_shared_resource<json::monotonic_resource>());
  if (ec) return make_error(Errc::protocol, "malformed JSON: " + ec.message());
  auto* o = v.if_object();
  if (!o) return make_error(Errc::protocol, "reply is not a JSON object");
  auto* ok = o->if_contains("ok");
  if (ok && ok->is_bool() && ok->get_bool()) {
    auto* r = o->if_contains("result");
    return r ? json::value(std::move(*r)) : json::value(nullptr);  // moved: the same arena
  }
  Error e{Errc::failed, "the daemon refused the request"};
  if (auto* err = o->if_contains("error"); err && err->is_object()) {
    if (auto code = get_opt_string(err->get_object(), "code")) e.code = error_code_from_name(*code);
    if (auto msg = get_opt_string(err->get_object(), "message")) e.message = *msg;
    if (auto id = get_opt_string(err->get_object(), "id")) e.id = *id;
  }
  return e;
}

Result<std::string> get_string(const json::object& o, const char* key) {
  auto s = get_opt_string(o, key);
  if (!s) return make_error(Errc::protocol, std::string("request lacks string '") + key + "'");
  return *s;
}

std::optional<std::string> get_opt_string(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::int64_t> get_opt_int(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

bool get_bool(const json::object& o, const char* key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> get_strings(const json::value& v, const char* key) {
  std::vector<std::string> out;
  const auto* a = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  if (a && a->is_array()) {
    for (const auto& e : a->get_array()) {
      if (e.is_string()) out.emplace_back(e.get_string());
    }
  }
  return out;
}

}  // namespace sbx::proto
