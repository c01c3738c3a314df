#include "doctest.hpp"

#include <string>

#include "common/duration.hpp"

using sbx::Errc;
using sbx::format_duration;
using sbx::Millis;
using sbx::parse_duration;

namespace {

long long ms_of(const char* text) {
  auto r = parse_duration(text);
  REQUIRE_MESSAGE(r.ok(), "parse_duration(\"" << text << "\") failed: " << r.error().message);
  return r->count();
}

}  // namespace

TEST_CASE("parse_duration: each unit") {
  CHECK(ms_of("250ms") == 250);
  CHECK(ms_of("5s") == 5'000);
  CHECK(ms_of("2m") == 120'000);
  CHECK(ms_of("1h") == 3'600'000);
}

TEST_CASE("parse_duration: bare numbers are seconds") {
  CHECK(ms_of("1.5") == 1'500);
  CHECK(ms_of("0") == 0);
  CHECK(ms_of("30") == 30'000);
  CHECK(ms_of("0.25") == 250);
}

TEST_CASE("parse_duration: fractions with units") {
  CHECK(ms_of("1.5s") == 1'500);
  CHECK(ms_of("0.5m") == 30'000);
  CHECK(ms_of("0ms") == 0);
  CHECK(ms_of("0.5h") == 1'800'000);
}

TEST_CASE("parse_duration: rejects bad input as a usage error") {
  for (const char* bad : {"5parsecs", "-1", "", "s", "1.2.3", "1e9h", "ms", "-5s", "5sec", "abc",
                          "+1", "inf", "nan", "infs", "5ms5", "1,5", "."}) {
    CAPTURE(std::string(bad));
    auto r = parse_duration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::usage);
    CHECK(r.error().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("parse_duration: more than 100 years is refused") {
  CHECK(parse_duration("876000h").ok());  // exactly 100 years of 365 days
  CHECK_FALSE(parse_duration("876001h").ok());
  CHECK_FALSE(parse_duration("99999999999999999999h").ok());
}

TEST_CASE("format_duration") {
  CHECK(format_duration(Millis(0)) == "0ms");
  CHECK(format_duration(Millis(250)) == "250ms");
  CHECK(format_duration(Millis(999)) == "999ms");
  CHECK(format_duration(Millis(1'000)) == "1s");
  CHECK(format_duration(Millis(1'500)) == "1.5s");
  CHECK(format_duration(Millis(5'000)) == "5s");
  CHECK(format_duration(Millis(59'000)) == "59s");
  CHECK(format_duration(Millis(60'000)) == "1m");
  CHECK(format_duration(Millis(120'000)) == "2m");
  CHECK(format_duration(Millis(90'000)) == "1m30s");
  CHECK(format_duration(Millis(3'600'000)) == "1h");
  CHECK(format_duration(Millis(3'780'000)) == "1h3m");
  CHECK(format_duration(Millis(7'200'000)) == "2h");
}

TEST_CASE("format_duration output parses back for whole units") {
  for (long long ms : {0LL, 250LL, 1'000LL, 1'500LL, 5'000LL, 60'000LL, 120'000LL, 3'600'000LL}) {
    CAPTURE(ms);
    auto text = format_duration(Millis(ms));
    auto back = parse_duration(text);
    REQUIRE(back.ok());
    CHECK(back->count() == ms);
  }
}
