#include "doctest.hpp"

#include <boost/json.hpp>
#include <random>
#include <string>

#include "proto/bytes.hpp"

namespace json = boost::json;
namespace proto = sbx::proto;

TEST_CASE("base64: RFC 4648 test vectors") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    CAPTURE(std::string(plain));
    CHECK(proto::base64_encode(plain) == encoded);
    CHECK(proto::base64_decode(encoded) == std::optional<std::string>(plain));
  }
  CHECK(proto::base64_encode(std::string_view("\xFF\xFE\xFD\x00\x3F", 5)) ==
        std::string("//79AD8="));
  CHECK(proto::base64_encode("caf\xE9") == "Y2Fm6Q==");
}

TEST_CASE("base64: only canonical padded text decodes") {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm9v=", "Zm=v", "Zm9v\n", "Zm 9",
                          "Zm9*", "=Zm9", "Zg==Zm9v"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(proto::base64_decode(bad).has_value());
  }
}

TEST_CASE("base64: random bytes round trip") {
  std::mt19937 rng(7);
  for (int n = 0; n < 200; ++n) {
    std::string s(static_cast<std::size_t>(n), '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    CHECK(proto::base64_decode(proto::base64_encode(s)) == std::optional<std::string>(s));
  }
}

TEST_CASE("bytes_to_json: text stays a plain string, other bytes are tagged") {
  CHECK(proto::bytes_to_json("plain") == json::value("plain"));
  CHECK(proto::bytes_to_json("caf\xC3\xA9") == json::value("caf\xC3\xA9"));
  CHECK(proto::bytes_to_json("") == json::value(""));
  CHECK(json::serialize(proto::bytes_to_json("caf\xE9")) == R"({"base64":"Y2Fm6Q=="})");
  // A string that looks like the tagged form is still a plain string.
  CHECK(proto::bytes_to_json(R"({"base64":"Y2Fm6Q=="})").is_string());
}

TEST_CASE("bytes_from_json: both forms, through text as on the wire") {
  for (std::string s :
       {std::string("plain"), std::string("caf\xE9"), std::string("\xFF\xFE"),
        std::string("ok\xE2\x82"), std::string("caf\xC3\xA9 \xE9"), std::string()}) {
    CAPTURE(s);
    std::string text = json::serialize(proto::bytes_to_json(s));
    CHECK(proto::bytes_from_json(json::parse(text)) == std::optional<std::string>(s));
  }
  for (int b = 0; b < 256; ++b) {
    std::string s = "x" + std::string(1, static_cast<char>(b));
    CHECK(proto::bytes_from_json(json::parse(json::serialize(proto::bytes_to_json(s)))) ==
          std::optional<std::string>(s));
  }
}

TEST_CASE("bytes_from_json: anything else is no bytes") {
  for (const char* text : {"42", "null", "true", "[]", "{}", R"({"base64":5})",
                           R"({"base64":"Zg"})", R"({"base64":"Zg==","x":1})", R"({"hex":"e9"})"}) {
    CAPTURE(std::string(text));
    CHECK_FALSE(proto::bytes_from_json(json::parse(text)).has_value());
  }
  json::object o{{"a", "x"}, {"b", json::object{{"base64", "6Q=="}}}, {"c", 1}};
  CHECK(proto::get_opt_bytes(o, "a") == std::optional<std::string>("x"));
  CHECK(proto::get_opt_bytes(o, "b") == std::optional<std::string>("\xE9"));
  CHECK_FALSE(proto::get_opt_bytes(o, "c").has_value());
  CHECK_FALSE(proto::get_opt_bytes(o, "missing").has_value());
}
