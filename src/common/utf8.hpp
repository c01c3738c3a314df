#pragma once
#include <string>
#include <string_view>

namespace sbx {

/// How many bytes at the start of `bytes` are valid UTF-8 (complete sequences only).
std::size_t utf8_valid_prefix(std::string_view bytes);

/// True when `bytes` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view bytes);

/// `bytes` for a reader: valid UTF-8 as it is, each other byte as `\xNN` (upper-case hex),
/// as systemd and `ls -b` show them.
std::string escape_non_utf8(std::string_view bytes);

/// `bytes` on one line for a reader (a table cell, a message): escaped as escape_non_utf8,
/// each control character (the newlines of a -c script) as a space, and past `max` bytes
/// cut at a character boundary and ended with "...".
std::string one_line(std::string_view bytes, std::size_t max = std::string::npos);

/// Turns a byte stream into valid UTF-8 chunk by chunk: each invalid byte becomes U+FFFD,
/// and a sequence split across two chunks is carried over, not replaced.
class Utf8Sanitizer {
 public:
  std::string feed(std::string_view bytes);
  /// What is left of an unfinished sequence at the end of the stream, replaced.
  std::string flush();

 private:
  std::string pending_;
};

}  // namespace sbx
