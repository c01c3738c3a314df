#include "doctest.hpp"

#include <string>

#include "common/ids.hpp"

using sbx::check_id;
using sbx::Errc;
using sbx::is_valid_id;

TEST_CASE("is_valid_id: accepted ids") {
  CHECK(is_valid_id("a"));
  CHECK(is_valid_id("Z"));
  CHECK(is_valid_id("7"));
  CHECK(is_valid_id("web"));
  CHECK(is_valid_id("web-1"));
  CHECK(is_valid_id("build_2.log"));
  CHECK(is_valid_id("a.."));
  CHECK(is_valid_id("0-._"));
  CHECK(is_valid_id(std::string(64, 'x')));
}

TEST_CASE("is_valid_id: length limit is 64") {
  CHECK(is_valid_id(std::string(64, 'a')));
  CHECK_FALSE(is_valid_id(std::string(65, 'a')));
  CHECK_FALSE(is_valid_id("a" + std::string(64, '-')));
  CHECK_FALSE(is_valid_id(""));
}

TEST_CASE("is_valid_id: rejected ids") {
  for (const char* bad : {".", "..", ".hidden", "-x", "_x", "bad id!", "a/b", "../x", "a b", "a\tb",
                          "a\nb", "x*", "é", "a:b", "a\\b", "/abs"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(is_valid_id(bad));
  }
  CHECK_FALSE(is_valid_id(std::string("a\0b", 3)));
}

TEST_CASE("check_id") {
  CHECK(check_id("web-1").ok());
  auto r = check_id("bad id!");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::usage);
  CHECK(r.error().message.find("'bad id!'") != std::string::npos);
  auto too_long = check_id(std::string(65, 'a'));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().code == Errc::usage);
  CHECK_FALSE(check_id("..").ok());
  CHECK_FALSE(check_id("").ok());
}
