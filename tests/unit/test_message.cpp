#include "doctest.hpp"

#include <boost/json.hpp>
#include <string>

#include "proto/message.hpp"
#include "proto/protocol.hpp"

using sbx::Errc;
using sbx::Error;
namespace json = boost::json;
namespace proto = sbx::proto;

TEST_CASE("parse_json") {
  auto ok = proto::parse_json(R"({"a":[1,2,"x"]})");
  REQUIRE(ok.ok());
  CHECK(ok->at("a").at(2).as_string() == "x");
  for (const char* bad : {"", "{", "garbage", "{\"a\":}", "[1,2", "{} {}", "\xFF", "nul"}) {
    CAPTURE(std::string(bad));
    auto r = proto::parse_json(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
}

TEST_CASE("ok_payload / decode_reply round trip") {
  json::object result{{"id", "web"}, {"pid", 42}, {"list", json::array{1, "two", nullptr}}};
  std::string payload = proto::ok_payload(result);
  auto parsed = proto::parse_json(payload);
  REQUIRE(parsed.ok());
  CHECK(parsed->at("ok").as_bool() == true);

  auto back = proto::decode_reply(payload);
  REQUIRE(back.ok());
  CHECK(*back == json::value(result));

  auto scalar = proto::decode_reply(proto::ok_payload(json::value("just a string")));
  REQUIRE(scalar.ok());
  CHECK(scalar->as_string() == "just a string");

  auto null_result = proto::decode_reply(proto::ok_payload(nullptr));
  REQUIRE(null_result.ok());
  CHECK(null_result->is_null());
}

TEST_CASE("decode_reply_text: the result as sent, an error as decode_reply gives it") {
  json::array result{json::object{{"id", "web"}, {"command", "a \"b\" \u00e9"}}, 7, nullptr};
  std::string text;
  REQUIRE(proto::decode_reply_text(proto::ok_payload(result), text).ok());
  CHECK(text == json::serialize(result));

  auto err = proto::decode_reply_text(proto::error_payload(Error{Errc::not_found, "no 'x'"}), text);
  REQUIRE_FALSE(err.ok());
  CHECK(err.error().code == Errc::not_found);
  CHECK(err.error().message == "no 'x'");

  // Spelled otherwise than this daemon writes it: decoded, then serialized.
  REQUIRE(proto::decode_reply_text(R"({ "result": [1, 2], "ok": true })", text).ok());
  CHECK(text == "[1,2]");

  for (const char* bad : {R"({"ok":true,"result":[1,2})", R"({"ok":true,"result":[1] [2]})",
                          R"({"ok":true,"result":})", R"({"ok":true,"result":"\xFF"})"}) {
    CAPTURE(std::string(bad));
    auto r = proto::decode_reply_text(bad, text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
}

TEST_CASE("error_payload / decode_reply round trip keeps every code name and the message") {
  for (Errc c : {Errc::failed, Errc::usage, Errc::not_found, Errc::timeout, Errc::conflict,
                 Errc::protocol, Errc::unavailable, Errc::not_started}) {
    CAPTURE(std::string(sbx::error_code_name(c)));
    Error e{c, std::string("no process 'web' \"quoted\"\nline 2 \xE2\x82\xAC")};
    std::string payload = proto::error_payload(e);
    auto parsed = proto::parse_json(payload);
    REQUIRE(parsed.ok());
    CHECK(parsed->at("ok").as_bool() == false);
    CHECK(parsed->at("error").at("code").as_string() == sbx::error_code_name(c));
    auto back = proto::decode_reply(payload);
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().code == c);
    CHECK(back.error().message == e.message);
  }
}

TEST_CASE("error_payload / decode_reply: the id of a process that could not start") {
  Error e{Errc::not_started, "'7' could not start: no such program 'x' in PATH", "7"};
  auto back = proto::decode_reply(proto::error_payload(e));
  REQUIRE_FALSE(back.ok());
  CHECK(back.error().code == Errc::not_started);
  CHECK(back.error().id == "7");
  auto plain = proto::decode_reply(proto::error_payload(Error{Errc::failed, "no"}));
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().id.empty());
}

TEST_CASE("error code names on the wire") {
  CHECK(std::string(sbx::error_code_name(Errc::not_found)) == "not_found");
  CHECK(std::string(sbx::error_code_name(Errc::usage)) == "usage");
  CHECK(std::string(sbx::error_code_name(Errc::timeout)) == "timeout");
  CHECK(sbx::error_code_from_name("conflict") == Errc::conflict);
  CHECK(sbx::error_code_from_name("unavailable") == Errc::unavailable);
  CHECK(std::string(sbx::error_code_name(Errc::not_started)) == "not_started");
  CHECK(sbx::error_code_from_name("not_started") == Errc::not_started);
  CHECK(sbx::error_code_from_name("some_future_code") == Errc::failed);
}

TEST_CASE("decode_reply: odd replies") {
  SUBCASE("not JSON") {
    auto r = proto::decode_reply("not json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
  SUBCASE("not an object") {
    auto r = proto::decode_reply("[true]");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
  SUBCASE("ok without result is null") {
    auto r = proto::decode_reply(R"({"ok":true})");
    REQUIRE(r.ok());
    CHECK(r->is_null());
  }
  SUBCASE("ok:false without error object") {
    auto r = proto::decode_reply(R"({"ok":false})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::failed);
    CHECK_FALSE(r.error().message.empty());
  }
  SUBCASE("unknown code name maps to failed, message kept") {
    auto r = proto::decode_reply(R"({"ok":false,"error":{"code":"martian","message":"m"}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::failed);
    CHECK(r.error().message == "m");
  }
  SUBCASE("ok that is not a bool is not success") {
    auto r = proto::decode_reply(R"({"ok":1,"result":5})");
    CHECK_FALSE(r.ok());
  }
  SUBCASE("unknown keys ignored") {
    auto r = proto::decode_reply(R"({"ok":true,"result":{"a":1},"extra":[1]})");
    REQUIRE(r.ok());
    CHECK(r->at("a").as_int64() == 1);
  }
}

TEST_CASE("hello_payload / check_hello") {
  SUBCASE("our own hello is accepted") {
    std::string h = proto::hello_payload("sbx");
    auto v = proto::parse_json(h);
    REQUIRE(v.ok());
    CHECK(v->at("proto").as_int64() == proto::kProtocolVersion);
    CHECK(proto::check_hello(h, "sbxd").ok());
  }
  SUBCASE("right version, extra keys") {
    CHECK(proto::check_hello(R"({"proto":1,"server":"sbxd 9.9","pid":1,"x":[]})", "sbxd").ok());
  }
  SUBCASE("wrong version") {
    for (const char* h : {R"({"proto":2})", R"({"proto":0})", R"({"proto":-1})"}) {
      CAPTURE(std::string(h));
      auto r = proto::check_hello(h, "sbxd");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::protocol);
    }
    auto r = proto::check_hello(R"({"proto":2})", "sbxd");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("sbxd") != std::string::npos);
    CHECK(r.error().message.find('2') != std::string::npos);
  }
  SUBCASE("missing or mistyped version") {
    for (const char* h : {R"({})", R"({"proto":"1"})", R"({"proto":1.0})", R"({"proto":null})",
                          R"([1])", R"(1)", R"({"version":1})"}) {
      CAPTURE(std::string(h));
      auto r = proto::check_hello(h, "sbxd");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::protocol);
    }
  }
  SUBCASE("garbage") {
    auto r = proto::check_hello("\x01\x02hello", "sbx");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
}

TEST_CASE("request argument getters") {
  json::object o{{"s", "str"}, {"i", 5},       {"neg", -3},
                 {"b", true},  {"n", nullptr}, {"big", json::value(std::uint64_t{1} << 63)}};
  auto s = proto::get_string(o, "s");
  REQUIRE(s.ok());
  CHECK(*s == "str");
  auto missing = proto::get_string(o, "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("nope") != std::string::npos);
  CHECK_FALSE(proto::get_string(o, "i").ok());
  CHECK(proto::get_opt_string(o, "s") == std::optional<std::string>("str"));
  CHECK_FALSE(proto::get_opt_string(o, "n").has_value());
  CHECK(proto::get_opt_int(o, "i") == std::optional<std::int64_t>(5));
  CHECK(proto::get_opt_int(o, "neg") == std::optional<std::int64_t>(-3));
  CHECK_FALSE(proto::get_opt_int(o, "s").has_value());
  CHECK_FALSE(proto::get_opt_int(o, "big").has_value());
  CHECK(proto::get_bool(o, "b") == true);
  CHECK(proto::get_bool(o, "nope") == false);
  CHECK(proto::get_bool(o, "nope", true) == true);
  CHECK(proto::get_bool(o, "i", true) == true);
}

TEST_CASE("error_payload: a message quoting bytes that are not UTF-8 stays valid JSON") {
  auto r = proto::decode_reply(
      proto::error_payload(Error{Errc::failed, "no such program 'caf\xE9' in PATH"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::failed);
  CHECK(r.error().message == "no such program 'caf\\xE9' in PATH");
}
