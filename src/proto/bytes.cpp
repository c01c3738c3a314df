#include "proto/bytes.hpp"

#include <boost/json/string.hpp>

#include "common/json_text.hpp"
#include "common/utf8.hpp"

namespace sbx::proto {
namespace json = boost::json;

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = s[i] << 16 | s[i + 1] << 8 | s[i + 2];
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[v >> shift & 63];
  }
  if (std::size_t rest = bytes.size() - i) {
    unsigned v = s[i] << 16 | (rest == 2 ? s[i + 1] << 8 : 0);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" is no padding
    unsigned v = 0;
    for (int k = 0; k < 4 - pad; ++k) {
      int d = sextet(text[i + k]);
      if (d < 0) return std::nullopt;
      v = v << 6 | static_cast<unsigned>(d);
    }
    v <<= 6 * pad;
    // Canonical only: the bits the padding leaves over must be zero.
    if ((pad == 1 && (v & 0xFF)) || (pad == 2 && (v & 0xFFFF))) return std::nullopt;
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>(v >> 8 & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

json::value bytes_to_json(std::string_view bytes, json::storage_ptr sp) {
  if (is_utf8(bytes)) return json::string(bytes, sp);
  json::object o(sp);
  o[kBytesKey] = base64_encode(bytes);
  return o;
}

void append_bytes_json(std::string& out, std::string_view bytes) {
  if (is_utf8(bytes)) return append_json_string(out, bytes);
  out += '{';
  append_json_key(out, kBytesKey);
  append_json_string(out, base64_encode(bytes));
  out += '}';
}

std::optional<std::string> bytes_from_json(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  const auto* o = v.if_object();
  if (!o || o->size() != 1) return std::nullopt;
  const auto* b = o->if_contains(kBytesKey);
  if (!b || !b->is_string()) return std::nullopt;
  return base64_decode(b->get_string());
}

std::optional<std::string> get_opt_bytes(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v ? bytes_from_json(*v) : std::nullopt;
}

}  // namespace sbx::proto
