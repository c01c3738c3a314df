#include "doctest.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "proto/frame.hpp"
#include "proto/protocol.hpp"

using sbx::proto::encode_frame;
using sbx::proto::Frame;
using sbx::proto::FrameKind;
using sbx::proto::FrameReader;
using sbx::proto::kHeaderSize;
using sbx::proto::kMaxControlPayload;
using sbx::proto::kMaxDataPayload;
using sbx::proto::kMaxRequestPayload;

namespace {

std::string header(std::uint32_t len, std::uint8_t kind, std::uint8_t flags = 0,
                   std::uint8_t r1 = 0, std::uint8_t r2 = 0) {
  std::string h;
  h += static_cast<char>(len >> 24);
  h += static_cast<char>(len >> 16);
  h += static_cast<char>(len >> 8);
  h += static_cast<char>(len);
  h += static_cast<char>(kind);
  h += static_cast<char>(flags);
  h += static_cast<char>(r1);
  h += static_cast<char>(r2);
  return h;
}

std::vector<Frame> drain(FrameReader& r) {
  std::vector<Frame> out;
  while (auto f = r.next()) out.push_back(std::move(*f));
  return out;
}

void check_frame(const Frame& f, FrameKind kind, std::uint8_t flags, const std::string& payload) {
  CHECK(f.kind == kind);
  CHECK(f.flags == flags);
  CHECK(f.payload == payload);
}

}  // namespace

TEST_CASE("protocol constants") {
  CHECK(kHeaderSize == 8);
  CHECK(kMaxControlPayload == 1024 * 1024);
  CHECK(kMaxDataPayload == 64 * 1024);
  CHECK(static_cast<int>(FrameKind::hello) == 1);
  CHECK(static_cast<int>(FrameKind::request) == 2);
  CHECK(static_cast<int>(FrameKind::response) == 3);
  CHECK(static_cast<int>(FrameKind::event) == 4);
  CHECK(static_cast<int>(FrameKind::data) == 5);
  CHECK(static_cast<int>(FrameKind::end) == 6);
}

TEST_CASE("encode_frame layout: big-endian length, kind, flags, zero reserved") {
  std::string f = encode_frame(FrameKind::data, sbx::proto::kStreamStderr, "hello");
  CHECK(f == std::string("\x00\x00\x00\x05\x05\x02\x00\x00hello", 13));

  std::string payload(0x010203, 'p');
  std::string big = encode_frame(FrameKind::request, 0xAB, payload);
  REQUIRE(big.size() == kHeaderSize + payload.size());
  CHECK(static_cast<unsigned char>(big[0]) == 0x00);
  CHECK(static_cast<unsigned char>(big[1]) == 0x01);
  CHECK(static_cast<unsigned char>(big[2]) == 0x02);
  CHECK(static_cast<unsigned char>(big[3]) == 0x03);
  CHECK(static_cast<unsigned char>(big[4]) == 2);
  CHECK(static_cast<unsigned char>(big[5]) == 0xAB);
  CHECK(big[6] == 0);
  CHECK(big[7] == 0);
  CHECK(big.substr(kHeaderSize) == payload);

  CHECK(encode_frame(FrameKind::end, 0, "") == std::string("\x00\x00\x00\x00\x06\x00\x00\x00", 8));
  CHECK(encode_frame(FrameKind::hello, 0, "{}") == header(2, 1) + "{}");
}

TEST_CASE("encode_frame appends to an existing buffer") {
  std::string out = "prefix";
  encode_frame(out, FrameKind::event, 7, "ev");
  encode_frame(out, FrameKind::response, 0, "r");
  CHECK(out == "prefix" + header(2, 4, 7) + "ev" + header(1, 3) + "r");
}

TEST_CASE("FrameReader: one frame, and nothing until it is whole") {
  FrameReader r;
  std::string f = encode_frame(FrameKind::request, 0, R"({"op":"ps"})");
  r.feed(f.substr(0, 7));
  CHECK_FALSE(r.next().has_value());
  CHECK_FALSE(r.failed());
  CHECK(r.buffered() == 7);
  r.feed(f.substr(7, 5));
  CHECK_FALSE(r.next().has_value());
  CHECK(r.buffered() == 12);
  r.feed(f.substr(12));
  auto got = r.next();
  REQUIRE(got.has_value());
  check_frame(*got, FrameKind::request, 0, R"({"op":"ps"})");
  CHECK_FALSE(r.next().has_value());
  CHECK(r.buffered() == 0);
  CHECK_FALSE(r.failed());
  CHECK(r.error().empty());
}

TEST_CASE("FrameReader: several frames in one feed, and byte by byte, give the same frames") {
  std::string stream;
  encode_frame(stream, FrameKind::hello, 0, R"({"proto":1})");
  encode_frame(stream, FrameKind::request, 0, R"({"op":"logs"})");
  encode_frame(stream, FrameKind::data, 1, "out\n");
  encode_frame(stream, FrameKind::data, 2, std::string("err\0bin\xff", 8));
  encode_frame(stream, FrameKind::data, 1, "");
  encode_frame(stream, FrameKind::event, 0, R"({"type":"exit"})");
  encode_frame(stream, FrameKind::end, 0, R"({"ok":true})");

  auto check_all = [](const std::vector<Frame>& got) {
    REQUIRE(got.size() == 7);
    check_frame(got[0], FrameKind::hello, 0, R"({"proto":1})");
    check_frame(got[1], FrameKind::request, 0, R"({"op":"logs"})");
    check_frame(got[2], FrameKind::data, 1, "out\n");
    check_frame(got[3], FrameKind::data, 2, std::string("err\0bin\xff", 8));
    check_frame(got[4], FrameKind::data, 1, "");
    check_frame(got[5], FrameKind::event, 0, R"({"type":"exit"})");
    check_frame(got[6], FrameKind::end, 0, R"({"ok":true})");
  };

  SUBCASE("all at once") {
    FrameReader r;
    r.feed(stream);
    check_all(drain(r));
    CHECK(r.buffered() == 0);
    CHECK_FALSE(r.failed());
  }
  SUBCASE("one byte at a time, popping after each byte") {
    FrameReader r;
    std::vector<Frame> got;
    for (char c : stream) {
      r.feed(std::string_view(&c, 1));
      for (auto& f : drain(r)) got.push_back(std::move(f));
    }
    check_all(got);
    CHECK(r.buffered() == 0);
    CHECK_FALSE(r.failed());
  }
  SUBCASE("one byte at a time, popping only at the end") {
    FrameReader r;
    for (char c : stream) r.feed(std::string_view(&c, 1));
    CHECK(r.buffered() == stream.size());
    check_all(drain(r));
  }
  SUBCASE("every split into two feeds") {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      CAPTURE(cut);
      FrameReader r;
      std::vector<Frame> got;
      r.feed(std::string_view(stream).substr(0, cut));
      for (auto& f : drain(r)) got.push_back(std::move(f));
      r.feed(std::string_view(stream).substr(cut));
      for (auto& f : drain(r)) got.push_back(std::move(f));
      check_all(got);
    }
  }
}

TEST_CASE("FrameReader: many frames past the internal compaction point stay in order") {
  FrameReader r;
  std::string batch;
  for (int i = 0; i < 200; ++i) {
    encode_frame(batch, FrameKind::data, 1, std::to_string(i) + std::string(1000, 'a' + i % 26));
  }
  r.feed(batch);
  int next = 0;
  for (; next < 150; ++next) {
    auto f = r.next();
    REQUIRE(f.has_value());
    CHECK(f->payload == std::to_string(next) + std::string(1000, 'a' + next % 26));
  }
  // Feed more (and a partial frame) while 50 are still buffered.
  std::string more;
  for (int i = 200; i < 300; ++i) {
    encode_frame(more, FrameKind::data, 2, std::to_string(i) + std::string(1000, 'a' + i % 26));
  }
  r.feed(more.substr(0, more.size() - 10));
  for (; next < 299; ++next) {
    auto f = r.next();
    REQUIRE_MESSAGE(f.has_value(), "frame " << next);
    CHECK(f->payload == std::to_string(next) + std::string(1000, 'a' + next % 26));
    CHECK(f->flags == (next < 200 ? 1 : 2));
  }
  CHECK_FALSE(r.next().has_value());
  r.feed(more.substr(more.size() - 10));
  auto last = r.next();
  REQUIRE(last.has_value());
  CHECK(last->payload == "299" + std::string(1000, 'a' + 299 % 26));
  CHECK(r.buffered() == 0);
  CHECK_FALSE(r.failed());
}

TEST_CASE("FrameReader: payload limits") {
  SUBCASE("control payload of exactly 1 MiB is accepted") {
    FrameReader r;
    r.feed(encode_frame(FrameKind::response, 0, std::string(kMaxControlPayload, 'x')));
    auto f = r.next();
    REQUIRE(f.has_value());
    CHECK(f->payload.size() == kMaxControlPayload);
    CHECK_FALSE(r.failed());
  }
  SUBCASE(
      "REQUEST payload of exactly 16 MiB is accepted, one byte more fails from the header alone") {
    FrameReader r;
    r.feed(encode_frame(FrameKind::request, 0, std::string(kMaxRequestPayload, 'x')));
    auto f = r.next();
    REQUIRE(f.has_value());
    CHECK(f->payload.size() == kMaxRequestPayload);
    r.feed(header(static_cast<std::uint32_t>(kMaxRequestPayload + 1), 2));
    CHECK_FALSE(r.next().has_value());
    CHECK(r.failed());
    CHECK(r.error().find(std::to_string(kMaxRequestPayload)) != std::string::npos);
  }
  SUBCASE("other control payloads over 1 MiB fail from the header alone") {
    for (std::uint8_t kind : {1, 3, 4, 6}) {
      CAPTURE(int(kind));
      FrameReader r;
      r.feed(header(static_cast<std::uint32_t>(kMaxControlPayload + 1), kind));
      CHECK_FALSE(r.next().has_value());
      CHECK(r.failed());
      CHECK_FALSE(r.error().empty());
    }
  }
  SUBCASE("a 4 GiB length fails without waiting for (or allocating) the payload") {
    FrameReader r;
    r.feed(header(0xFFFFFFFFu, 2) + "abc");
    CHECK_FALSE(r.next().has_value());
    CHECK(r.failed());
    CHECK(r.buffered() < 100);
  }
  SUBCASE("DATA of exactly 64 KiB is accepted") {
    FrameReader r;
    r.feed(encode_frame(FrameKind::data, 1, std::string(kMaxDataPayload, 'd')));
    auto f = r.next();
    REQUIRE(f.has_value());
    CHECK(f->payload.size() == kMaxDataPayload);
  }
  SUBCASE("DATA over 64 KiB fails from the header alone, though under the control limit") {
    FrameReader r;
    r.feed(header(static_cast<std::uint32_t>(kMaxDataPayload + 1), 5, 1));
    CHECK_FALSE(r.next().has_value());
    CHECK(r.failed());
  }
  SUBCASE("a custom max_control") {
    FrameReader small(10);
    small.feed(encode_frame(FrameKind::response, 0, std::string(10, 'r')));
    REQUIRE(small.next().has_value());
    small.feed(header(11, 3));
    CHECK_FALSE(small.next().has_value());
    CHECK(small.failed());

    FrameReader small_data(10);  // DATA keeps its own limit
    small_data.feed(encode_frame(FrameKind::data, 1, std::string(1000, 'd')));
    auto d = small_data.next();
    REQUIRE(d.has_value());
    CHECK(d->payload.size() == 1000);
    small_data.feed(header(static_cast<std::uint32_t>(kMaxDataPayload + 1), 5));
    CHECK_FALSE(small_data.next().has_value());
    CHECK(small_data.failed());

    FrameReader big(4u << 20);  // the client allows large replies
    std::string payload(3u << 20, 'b');
    big.feed(encode_frame(FrameKind::response, 0, payload));
    auto f = big.next();
    REQUIRE(f.has_value());
    CHECK(f->payload.size() == payload.size());
    CHECK_FALSE(big.failed());
  }
}

TEST_CASE("FrameReader: unknown kinds fail") {
  for (std::uint8_t kind : {0, 8, 9, 0x80, 0xFF}) {
    CAPTURE(int(kind));
    FrameReader r;
    r.feed(header(2, kind) + "{}");
    CHECK_FALSE(r.next().has_value());
    CHECK(r.failed());
    CHECK_FALSE(r.error().empty());
  }
}

TEST_CASE("FrameReader: non-zero reserved bytes fail") {
  for (auto [r1, r2] : {std::pair<int, int>{1, 0}, {0, 1}, {0xFF, 0xFF}}) {
    CAPTURE(r1);
    CAPTURE(r2);
    FrameReader r;
    r.feed(header(2, 3, 0, static_cast<std::uint8_t>(r1), static_cast<std::uint8_t>(r2)) + "{}");
    CHECK_FALSE(r.next().has_value());
    CHECK(r.failed());
  }
}

TEST_CASE("FrameReader: a bad frame after good ones; once failed, stays failed") {
  FrameReader r;
  std::string stream = encode_frame(FrameKind::hello, 0, "{}") + header(1, 9) + "x" +
                       encode_frame(FrameKind::request, 0, "{}");
  r.feed(stream);
  auto first = r.next();
  REQUIRE(first.has_value());
  CHECK(first->kind == FrameKind::hello);
  CHECK_FALSE(r.next().has_value());
  REQUIRE(r.failed());
  std::string why = r.error();
  CHECK_FALSE(r.next().has_value());
  r.feed(encode_frame(FrameKind::request, 0, "{}"));
  CHECK_FALSE(r.next().has_value());
  CHECK(r.failed());
  CHECK(r.error() == why);
}

TEST_CASE("CHUNK payload: runs of bytes with their times, round trip and refusals") {
  std::vector<sbx::proto::ChunkRun> runs = {{1'800'000'000'123'456'789, 3}, {-5, 0}, {7, 2}};
  std::string p = sbx::proto::encode_chunk(9, runs, "abcde");
  auto c = sbx::proto::decode_chunk(p);
  REQUIRE(c);
  CHECK(c->source == 9);
  REQUIRE(c->runs.size() == 3);
  CHECK(c->runs[0].time_ns == 1'800'000'000'123'456'789);
  CHECK(c->runs[1].time_ns == -5);
  CHECK(c->runs[2].length == 2);
  CHECK(c->bytes == "abcde");
  CHECK(!sbx::proto::decode_chunk(p.substr(0, p.size() - 1)));  // lengths do not add up
  CHECK(!sbx::proto::decode_chunk(p + "x"));
  CHECK(!sbx::proto::decode_chunk("short"));
  std::string many = sbx::proto::encode_chunk(0, {}, "");
  many[4] = '\x7f';  // 2 billion runs claimed
  CHECK(!sbx::proto::decode_chunk(many));
}
