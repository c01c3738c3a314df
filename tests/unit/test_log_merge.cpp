#include "cli/log_merge.hpp"

#include <string>

#include "cli/log_many_printer.hpp"
#include "doctest.hpp"

using sbx::cli::LogMerge;
using sbx::cli::ManyPrinter;

namespace {
constexpr std::uint8_t kOut = 1, kErr = 2;

/// What pop() gives now, as "source:bytes" (end items as "source:end"), one per item.
std::string drain(LogMerge& m) {
  std::string out;
  while (auto r = m.pop()) {
    out += std::to_string(r->source) + ":" + (r->end ? std::string("end") : r->bytes) + " ";
  }
  return out;
}
}  // namespace

TEST_CASE("merge: the earliest head goes first, across sources") {
  LogMerge m;
  auto a = m.add_source(), b = m.add_source();
  m.push(a, kOut, 10, "a1");
  m.push(a, kOut, 30, "a2");
  CHECK(drain(m).empty());  // b's first output may still be earlier
  CHECK_FALSE(m.ready());
  m.push(b, kErr, 20, "b1");
  CHECK(m.ready());
  m.push(b, kOut, 40, "b2");
  CHECK(drain(m) == "0:a1 1:b1 0:a2 ");  // b2 waits: a may still write before 40
  m.done(a);
  CHECK(drain(m) == "0:end 1:b2 ");
  m.done(b);
  CHECK(drain(m) == "1:end ");
  CHECK(m.drained());
}

TEST_CASE("merge: equal times go in the order of the sources, each source in its order") {
  LogMerge m;
  auto a = m.add_source(), b = m.add_source();
  m.push(b, kOut, 5, "b1");
  m.push(b, kOut, 5, "b2");
  m.push(a, kOut, 5, "a1");
  m.done(a);
  m.done(b);
  CHECK(drain(m) == "0:a1 0:end 1:b1 1:b2 1:end ");  // an end goes at its last output's time
}

TEST_CASE("merge: a source that caught up holds no one back; live output goes as it arrives") {
  LogMerge m;
  auto a = m.add_source(), b = m.add_source();
  m.push(a, kOut, 100, "a1");
  m.caught_up(b);  // b had written nothing
  CHECK(drain(m) == "0:a1 ");
  m.caught_up(a);
  m.push(b, kOut, 90, "b1");  // arrived late, written earlier: nothing printed is unprinted
  CHECK(drain(m) == "1:b1 ");
  CHECK_FALSE(m.drained());
}

TEST_CASE("merge: one source flooding waits for another still replaying, and counts its bytes") {
  LogMerge m;
  auto a = m.add_source(), b = m.add_source();
  for (int i = 0; i < 1000; ++i) m.push(a, kOut, 1000 + i, std::string(100, 'x'));
  CHECK(m.queued_bytes(a) == 100000);
  CHECK_FALSE(m.pop());  // b may have written before all of it
  m.push(b, kOut, 1500, "b");
  int before = 0;
  for (;;) {
    auto r = m.pop();
    REQUIRE(r);
    if (r->source == b) break;
    ++before;
  }
  CHECK(before == 501);  // a's runs at 1000..1500: the tie goes to a, the earlier source
  CHECK(m.queued_bytes(a) == 499 * 100);
  CHECK_FALSE(m.pop());  // b, emptied, may still write earlier than a's next
}

TEST_CASE("merge: a source with nothing ends at once") {
  LogMerge m;
  auto a = m.add_source();
  m.done(a);
  CHECK(drain(m) == "0:end ");
  CHECK(m.drained());
}

namespace {
struct Printed {
  std::string out[3];
  ManyPrinter::Out sink() {
    return [this](int fd, std::string_view b) { out[fd].append(b); };
  }
};
}  // namespace

TEST_CASE("many printer: ids padded to the widest, whole lines per process and stream") {
  Printed p;
  ManyPrinter pr({}, p.sink());
  pr.add("a");
  pr.add("web-1");
  CHECK(pr.prefix(0) == "a     | ");
  CHECK(pr.prefix(1) == "web-1 | ");
  pr.run(0, kOut, 1, "one ");
  pr.run(1, kOut, 2, "other\n");
  pr.run(0, kOut, 3, "line\nnext");
  pr.run(1, kErr, 4, "err\n");
  CHECK(p.out[1] == "web-1 | other\na     | one line\n");
  CHECK(p.out[2] == "web-1 | err\n");
  pr.end(0);  // the unterminated last line, ended for the reader
  CHECK(p.out[1] == "web-1 | other\na     | one line\na     | next\n");
}

TEST_CASE("many printer: colours, -t, --stdout on fd 1, --json with ids") {
  Printed p;
  ManyPrinter pr({false, true, true, true}, p.sink());
  pr.add("a");
  pr.add("b");
  CHECK(pr.prefix(0) == "\x1b[36ma |\x1b[0m ");
  CHECK(pr.prefix(1) == "\x1b[33mb |\x1b[0m ");
  pr.run(1, kErr, 1'000'000'000, "e\n");
  CHECK(p.out[1] == "\x1b[33mb |\x1b[0m 1970-01-01T00:00:01.000000Z e\n");
  Printed j;
  ManyPrinter pj({true, false, false, false}, j.sink());
  pj.add("x");
  pj.run(0, kErr, 2'000'000'000, "a\nb");
  pj.end(0);
  CHECK(j.out[1] ==
        "{\"type\":\"stderr\",\"id\":\"x\",\"data\":\"a\\n\",\"time\":\"1970-01-01T00:00:02."
        "000000Z\"}\n"
        "{\"type\":\"stderr\",\"id\":\"x\",\"data\":\"b\",\"time\":\"1970-01-01T00:00:02.000000Z\"}"
        "\n");
}
