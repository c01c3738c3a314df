#include "common/utf8.hpp"

namespace sbx {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

/// Length of the valid sequence at s[0..n), 0 if invalid, -1 if valid so far but cut short.
int sequence_length(const unsigned char* s, std::size_t n) {
  unsigned char c = s[0];
  int len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c == 0xE0)
    len = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC)
    len = 3;
  else if (c == 0xED)
    len = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF)
    len = 3;
  else if (c == 0xF0)
    len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3)
    len = 4;
  else if (c == 0xF4)
    len = 4, hi = 0x8F;
  else
    return 0;
  for (int i = 1; i < len; ++i) {
    if (static_cast<std::size_t>(i) >= n) return -1;
    unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
    if (s[i] < lo_i || s[i] > hi_i) return 0;
  }
  return len;
}

}  // namespace

std::size_t utf8_valid_prefix(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  while (i < bytes.size()) {
    int len = sequence_length(s + i, bytes.size() - i);
    if (len <= 0) break;
    i += static_cast<std::size_t>(len);
  }
  return i;
}

bool is_utf8(std::string_view bytes) { return utf8_valid_prefix(bytes) == bytes.size(); }

std::string escape_non_utf8(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size();) {
    int len = sequence_length(s + i, bytes.size() - i);
    if (len <= 0) {
      out += "\\x";
      out += kHex[s[i] >> 4];
      out += kHex[s[i] & 15];
      ++i;
      continue;
    }
    out.append(bytes, i, static_cast<std::size_t>(len));
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string Utf8Sanitizer::feed(std::string_view bytes) {
  std::string in = std::move(pending_);
  pending_.clear();
  in.append(bytes);
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  while (i < in.size()) {
    int len = sequence_length(s + i, in.size() - i);
    if (len < 0) {
      pending_ = in.substr(i);
      break;
    }
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(in, i, static_cast<std::size_t>(len));
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string Utf8Sanitizer::flush() {
  std::string out;
  if (!pending_.empty()) out = std::string(kReplacement);
  pending_.clear();
  return out;
}

std::string one_line(std::string_view bytes, std::size_t max) {
  std::string out = escape_non_utf8(bytes);
  for (char& c : out) c = static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  if (out.size() <= max) return out;
  std::size_t cut = utf8_valid_prefix(std::string_view(out).substr(0, max));
  return out.substr(0, cut) + "...";
}

}  // namespace sbx
