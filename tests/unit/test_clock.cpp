#include "doctest.hpp"

#include <optional>
#include <string>

#include "common/clock.hpp"

using sbx::EpochMs;
using sbx::format_rfc3339;
using sbx::parse_rfc3339;

TEST_CASE("format_rfc3339: known values") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(1700000000123) == "2023-11-14T22:13:20.123Z");
  CHECK(format_rfc3339(1) == "1970-01-01T00:00:00.001Z");
  CHECK(format_rfc3339(86'399'999) == "1970-01-01T23:59:59.999Z");
  CHECK(format_rfc3339(86'400'000) == "1970-01-02T00:00:00.000Z");
  CHECK(format_rfc3339(951'782'400'000) == "2000-02-29T00:00:00.000Z");  // leap day
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("format_rfc3339: parse gives back every millisecond it wrote, 1678 to 2261") {
  // A stride that is prime to every field's period, so that each digit position varies.
  for (EpochMs t = -9'200'000'000'000; t < 9'200'000'000'000; t += 7'777'777'777) {
    CAPTURE(t);
    CHECK(parse_rfc3339(format_rfc3339(t)) == std::optional<EpochMs>(t));
  }
}

TEST_CASE("parse_rfc3339: known values") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00.000Z") == std::optional<EpochMs>(0));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123Z") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T22:13:20Z") == std::optional<EpochMs>(1700000000000));
  CHECK(parse_rfc3339("2023-11-14T22:13:20z") == std::optional<EpochMs>(1700000000000));
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z") == std::optional<EpochMs>(951'782'400'000));
}

TEST_CASE("parse_rfc3339: years whose nanoseconds do not fit in 64 bits are refused") {
  CHECK(parse_rfc3339("1678-01-01T00:00:00Z").has_value());
  CHECK(parse_rfc3339("2261-12-31T23:59:59.999999999Z").has_value());
  CHECK_FALSE(parse_rfc3339("1677-12-31T23:59:59Z").has_value());
  CHECK_FALSE(parse_rfc3339("2262-01-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
  CHECK_FALSE(sbx::parse_rfc3339_ns("9999-12-31T23:59:59+23:59").has_value());
}

TEST_CASE("parse_rfc3339: fraction digits") {
  CHECK(parse_rfc3339("2023-11-14T22:13:20.1Z") == std::optional<EpochMs>(1700000000100));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.12Z") == std::optional<EpochMs>(1700000000120));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123456Z") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123456789Z") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.999999999Z") == std::optional<EpochMs>(1700000000999));
}

TEST_CASE("parse_rfc3339: offsets") {
  // 22:13:20.123Z is 00:13:20.123 on the next day at +02:00 and 17:13:20.123 at -05:00.
  CHECK(parse_rfc3339("2023-11-15T00:13:20.123+02:00") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T17:13:20.123-05:00") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123+00:00") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123-00:00") == std::optional<EpochMs>(1700000000123));
  CHECK(parse_rfc3339("2023-11-15T03:43:20+05:30") == std::optional<EpochMs>(1700000000000));
  CHECK(parse_rfc3339("2023-11-14T22:13:20+02:00") ==
        std::optional<EpochMs>(1700000000000 - 7'200'000));
}

TEST_CASE("format/parse round trip") {
  for (EpochMs t :
       {EpochMs{0}, EpochMs{1}, EpochMs{999}, EpochMs{1700000000123}, EpochMs{1'234'567'890'987},
        EpochMs{4'102'444'799'999}, EpochMs{-1}, EpochMs{-86'400'001}}) {
    CAPTURE(t);
    auto text = format_rfc3339(t);
    CHECK(text.size() == 24);
    CHECK(parse_rfc3339(text) == std::optional<EpochMs>(t));
  }
  EpochMs now = sbx::now_epoch_ms();
  CHECK(now > 1700000000000);
  CHECK(parse_rfc3339(format_rfc3339(now)) == std::optional<EpochMs>(now));
}

TEST_CASE("parse_rfc3339: rejects garbage") {
  for (const char* bad : {
           "",
           "garbage",
           "not a time at all, clearly",
           "2023-11-14",
           "2023-11-14T22:13:20",           // no offset
           "2023-11-14T22:13:20.Z",         // dot without digits
           "2023-11-14T22:13:20.123",       // no offset
           "2023-11-14T22:13:20.123Zjunk",  // trailing bytes
           "2023-11-14T22:13:20.123+02",    // short offset
           "2023-11-14T22:13:20.123+0200",  // offset without colon
           "2023-11-14T22:13:20.123+02:00x",
           "2023-11-14X22:13:20.123Z",
           "2023/11/14T22:13:20.123Z",
           "2023-13-14T22:13:20.123Z",  // month 13
           "2023-00-14T22:13:20.123Z",  // month 0
           "2023-02-29T22:13:20.123Z",  // not a leap year
           "2023-11-31T22:13:20.123Z",  // November has 30 days
           "2023-11-00T22:13:20.123Z",
           "2023-11-14T24:13:20.123Z",  // hour 24
           "2023-11-14T22:60:20.123Z",  // minute 60
           "2023-11-14T22:13:61.123Z",
           "2023-1-14T22:13:20.123Z",  // one-digit month
           "23-11-14T22:13:20.123Z",
       }) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("parse_rfc3339: rejects signed or blank date/time fields") {
  // Each field of RFC 3339 is a fixed number of digits; a sign or a blank is not a digit.
  for (const char* bad : {
           "2023-11-14T-1:13:20.123Z",
           "2023-11-14T22:-1:20.123Z",
           "2023-11-14T22:13:-1.123Z",
           "2023-11-14T+1:13:20.123Z",
           "2023-11-14T 1:13:20.123Z",
           "2023-+1-14T22:13:20.123Z",
       }) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}
