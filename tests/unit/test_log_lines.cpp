#include "doctest.hpp"

#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"
#include "common/log_lines.hpp"

using sbx::LineAssembler;
using sbx::LinePrefixer;

namespace {
using Piece = std::tuple<std::string, std::int64_t, bool>;
struct Collect {
  std::vector<Piece> got;
  LineAssembler::Emit fn() {
    return [this](std::string_view l, std::int64_t t, bool partial) {
      got.emplace_back(std::string(l), t, partial);
    };
  }
};
}  // namespace

TEST_CASE("LineAssembler: whole lines, each with the time of its first byte") {
  LineAssembler a(64);
  Collect c;
  a.feed(1, "one\ntw", c.fn());
  a.feed(2, "o\nthree\n", c.fn());
  a.feed(3, "tail", c.fn());
  CHECK(c.got ==
        std::vector<Piece>{{"one\n", 1, false}, {"two\n", 1, false}, {"three\n", 2, false}});
  a.finish(c.fn());
  CHECK(c.got.back() == Piece{"tail", 3, false});
  a.finish(c.fn());
  CHECK(c.got.size() == 4);
}

TEST_CASE("LineAssembler: a line longer than a piece is cut, partial on all pieces but the last") {
  LineAssembler a(4);
  Collect c;
  a.feed(1, "abcdefghij\nxy", c.fn());
  a.feed(2, "z", c.fn());
  a.finish(c.fn());
  CHECK(c.got == std::vector<Piece>{
                     {"abcd", 1, true}, {"efgh", 1, true}, {"ij\n", 1, false}, {"xyz", 1, false}});
  LineAssembler b(4);
  Collect d;
  b.feed(1, "ab", d.fn());
  b.feed(2, "cdef\n", d.fn());
  CHECK(d.got == std::vector<Piece>{{"abcd", 1, true}, {"ef\n", 2, false}});
}

TEST_CASE("LinePrefixer: a prefix before each line start, across feeds") {
  LinePrefixer p;
  std::string out;
  p.feed("A ", "x\ny", out);
  p.feed("B ", "z\n", out);
  p.feed("C ", "\nw", out);
  CHECK(out == "A x\nA yz\nC \nC w");
}

TEST_CASE("parse_time_spec: RFC 3339 to the nanosecond, or a duration ago") {
  const sbx::EpochNs now = 1'800'000'000'000'000'000;
  auto t = sbx::parse_time_spec("2026-12-01T19:00:00.123456789Z", "--since", now);
  REQUIRE(t);
  CHECK(*t % 1'000'000'000 == 123456789);
  CHECK(sbx::format_rfc3339_us(*t) == "2026-12-01T19:00:00.123456Z");
  auto z = sbx::parse_time_spec("2026-12-01T20:00:00.123456789+01:00", "--since", now);
  REQUIRE(z);
  CHECK(*z == *t);
  CHECK(*sbx::parse_time_spec("10m", "--since", now) == now - 600'000'000'000);
  CHECK(*sbx::parse_time_spec("2h", "--since", now) == now - 7'200'000'000'000);
  CHECK(*sbx::parse_time_spec("90s", "--until", now) == now - 90'000'000'000);
  for (const char* bad : {"", "yesterday", "-5m", "10 m", "2026-12-01", "2026-13-01T00:00:00Z"}) {
    CAPTURE(bad);
    auto r = sbx::parse_time_spec(bad, "--since", now);
    REQUIRE(!r);
    CHECK(r.error().code == sbx::Errc::usage);
    CHECK(r.error().message.find("--since") != std::string::npos);
  }
  CHECK(sbx::format_rfc3339_us(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(sbx::format_rfc3339_us(-1000) == "1969-12-31T23:59:59.999999Z");
  CHECK(*sbx::parse_rfc3339("2026-12-01T19:00:00.999999Z") % 1000 == 999);
}
