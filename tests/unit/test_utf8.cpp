#include "doctest.hpp"

#include <string>

#include "common/utf8.hpp"

using sbx::one_line;
using sbx::Utf8Sanitizer;

namespace {

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

std::string once(const std::string& bytes) {
  Utf8Sanitizer s;
  return s.feed(bytes) + s.flush();
}

std::string rep(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += R;
  return out;
}

}  // namespace

TEST_CASE("Utf8Sanitizer: valid text is kept byte for byte") {
  CHECK(once("") == "");
  CHECK(once("hello, world\n") == "hello, world\n");
  std::string ascii;
  for (int c = 0; c < 128; ++c) ascii += static_cast<char>(c);
  CHECK(once(ascii) == ascii);
  const std::string multi = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
  CHECK(once(multi) == multi);
  // Boundaries of each length.
  for (const char* edge : {"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                           "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    CAPTURE(std::string(edge));
    CHECK(once(edge) == edge);
  }
  CHECK(once(R) == R);
}

TEST_CASE("Utf8Sanitizer: each invalid byte becomes U+FFFD") {
  CHECK(once("\xFF") == R);
  CHECK(once("a\xFF"
             "b") == "a" + R + "b");
  CHECK(once("\x80") == R);  // lone continuation byte
  CHECK(once("\x80\x80\x80") == rep(3));
  CHECK(once("\xFE\xFF") == rep(2));
  CHECK(once("\xF5\x80\x80\x80") == rep(4));  // beyond the last lead byte
  CHECK(once("\xC3"
             "A") == R + "A");  // lead byte then ASCII
  CHECK(once("\xE2\x82"
             "A") == rep(2) + "A");  // cut-short sequence, then ASCII
  CHECK(once("x\xC3\xA9\xFFy") == "x\xC3\xA9" + R + "y");
}

TEST_CASE("Utf8Sanitizer: overlong forms and surrogates are rejected") {
  CHECK(once("\xC0\xAF") == rep(2));  // overlong '/'
  CHECK(once("\xC1\xBF") == rep(2));
  CHECK(once("\xE0\x80\xAF") == rep(3));  // overlong 3-byte
  CHECK(once("\xE0\x9F\xBF") == rep(3));
  CHECK(once("\xF0\x80\x80\xAF") == rep(4));  // overlong 4-byte
  CHECK(once("\xF0\x8F\xBF\xBF") == rep(4));
  CHECK(once("\xED\xA0\x80") == rep(3));      // U+D800
  CHECK(once("\xED\xBF\xBF") == rep(3));      // U+DFFF
  CHECK(once("\xF4\x90\x80\x80") == rep(4));  // U+110000
  // The output is always valid: feeding it again changes nothing.
  std::string out = once("\xC0\xAF\xED\xA0\x80ok\xF4\x90\x80\x80");
  CHECK(once(out) == out);
}

TEST_CASE("Utf8Sanitizer: a sequence split across feeds is carried over") {
  Utf8Sanitizer s;
  SUBCASE("3-byte char split 1+2") {
    CHECK(s.feed("a\xE2") == "a");
    CHECK(s.feed("\x82\xAC"
                 "b") ==
          "\xE2\x82\xAC"
          "b");
    CHECK(s.flush() == "");
  }
  SUBCASE("3-byte char split 2+1") {
    CHECK(s.feed("\xE2\x82") == "");
    CHECK(s.feed("\xAC") == "\xE2\x82\xAC");
    CHECK(s.flush() == "");
  }
  SUBCASE("4-byte char one byte per feed") {
    CHECK(s.feed("\xF0") == "");
    CHECK(s.feed("\x9F") == "");
    CHECK(s.feed("\x98") == "");
    CHECK(s.feed("\x80") == "\xF0\x9F\x98\x80");
    CHECK(s.flush() == "");
  }
  SUBCASE("empty feeds in between change nothing") {
    CHECK(s.feed("\xC3") == "");
    CHECK(s.feed("") == "");
    CHECK(s.feed("\xA9") == "\xC3\xA9");
  }
  SUBCASE("a carried prefix that turns out invalid") {
    CHECK(s.feed("\xE2\x82") == "");
    CHECK(s.feed("Z") == rep(2) + "Z");
    CHECK(s.flush() == "");
  }
  SUBCASE("a carried surrogate prefix is not completed into a surrogate") {
    std::string out = s.feed("\xED\xA0");
    out += s.feed("\x80");
    out += s.flush();
    CHECK(out == rep(3));
  }
  SUBCASE("a carried overlong prefix is not completed into an overlong form") {
    std::string out = s.feed("\xE0\x80");
    out += s.feed("\xAF");
    out += s.flush();
    CHECK(out == rep(3));
  }
}

TEST_CASE("Utf8Sanitizer: every split point of a mixed text gives the same result") {
  const std::string text =
      "a\xC3\xA9"
      "b\xE2\x82\xAC"
      "c\xF0\x9F\x98\x80"
      "d\xFF"
      "e\xED\xA0\x80"
      "f";
  const std::string whole = once(text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    CAPTURE(cut);
    Utf8Sanitizer s;
    std::string out = s.feed(text.substr(0, cut));
    out += s.feed(text.substr(cut));
    out += s.flush();
    CHECK(out == whole);
  }
  CHECK(whole ==
        "a\xC3\xA9"
        "b\xE2\x82\xAC"
        "c\xF0\x9F\x98\x80"
        "d" +
            R + "e" + rep(3) + "f");
}

TEST_CASE("Utf8Sanitizer: flush replaces a dangling prefix, once") {
  Utf8Sanitizer s;
  CHECK(s.feed("ok\xF0\x9F\x98") == "ok");
  CHECK(s.flush() == R);
  CHECK(s.flush() == "");
  // The carried bytes are gone: a continuation byte now is invalid by itself.
  CHECK(s.feed("\x80") == R);
  CHECK(s.flush() == "");
  Utf8Sanitizer fresh;
  CHECK(fresh.flush() == "");
}

TEST_CASE("is_utf8 and utf8_valid_prefix") {
  CHECK(sbx::is_utf8(""));
  CHECK(sbx::is_utf8("plain ascii\n\t"));
  CHECK(sbx::is_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK(sbx::is_utf8(std::string("nul\0inside", 10)));
  for (std::string bad :
       {std::string("caf\xE9"), std::string("\xFF"), std::string("\xC3"),  // cut short
        std::string("\xC0\xAF"),                                           // overlong
        std::string("\xED\xA0\x80"),                                       // surrogate
        std::string("\xF4\x90\x80\x80"),                                   // past U+10FFFF
        std::string("\x80"), std::string("ok\xE2\x82")}) {
    CAPTURE(bad);
    CHECK_FALSE(sbx::is_utf8(bad));
  }
  CHECK(sbx::utf8_valid_prefix("caf\xE9") == 3);
  CHECK(sbx::utf8_valid_prefix("\xC3\xA9\xE9") == 2);
  CHECK(sbx::utf8_valid_prefix("ok\xE2\x82") == 2);
  CHECK(sbx::utf8_valid_prefix("\xFF"
                               "abc") == 0);
  CHECK(sbx::utf8_valid_prefix("abc") == 3);
}

TEST_CASE("escape_non_utf8: other bytes as \\xNN, text as it is") {
  CHECK(sbx::escape_non_utf8("") == "");
  CHECK(sbx::escape_non_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(sbx::escape_non_utf8("caf\xE9") == "caf\\xE9");
  CHECK(sbx::escape_non_utf8("\xFF\xFE") == "\\xFF\\xFE");
  CHECK(sbx::escape_non_utf8("\xE2\x82") == "\\xE2\\x82");  // a cut sequence, byte by byte
  CHECK(sbx::escape_non_utf8("\xE9\xC3\xA9") ==
        "\\xE9\xC3\xA9");  // the valid sequence after it stays
  CHECK(sbx::escape_non_utf8("a\\b") == "a\\b");
  for (int b = 0x80; b < 0x100; ++b) {  // every lone high byte is escaped, and the result is text
    std::string one(1, static_cast<char>(b));
    CHECK(sbx::is_utf8(sbx::escape_non_utf8(one)));
    CHECK(sbx::escape_non_utf8(one).size() == 4);
  }
}

TEST_CASE("one_line: control characters as spaces, cut at a character boundary") {
  CHECK(one_line("python3 -c 'a\nb\tc'") == "python3 -c 'a b c'");
  CHECK(one_line("\xff") == "\\xFF");
  CHECK(one_line("abcdef", 3) == "abc...");
  CHECK(one_line("ab\xc3\xa9z", 3) == "ab...");  // é is not split
  CHECK(one_line("abc", 3) == "abc");
}
