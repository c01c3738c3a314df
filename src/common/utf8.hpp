#pragma once
#include <string>
#include <string_view>

namespace sbx {

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
