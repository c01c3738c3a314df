#include "doctest.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/log_index_reader.hpp"
#include "daemon/logs/indexed_reader.hpp"
#include "daemon/timers.hpp"
#include "temp_dir.hpp"

using sbx::daemon::IndexedReader;
using sbx::daemon::LogSource;
using sbx::daemon::TimeFilter;
namespace li = sbx::log_index;
using sbx::UniqueFd;

namespace {

/// A process's log files and index written as sbx-shim writes them, by hand.
struct FakeLogs {
  TempDir dir;
  int out = -1, err = -1, index = -1;
  std::uint64_t seq = 0;
  std::int64_t logical[2] = {0, 0};
  std::int64_t collapsed[2] = {0, 0};

  FakeLogs() {
    out = ::open((dir / "out").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    err = ::open((dir / "err").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    index = ::open((dir / "index").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE((out >= 0 && err >= 0 && index >= 0));
  }
  ~FakeLogs() {
    ::close(out);
    ::close(err);
    ::close(index);
  }
  static void put(int fd, std::string_view b) {
    REQUIRE(::write(fd, b.data(), b.size()) == ssize_t(b.size()));
  }
  /// Bytes only, no entry yet (the writer died, or has not written it).
  void bytes(int k, std::string_view b) {
    put(k ? err : out, b);
    logical[k] += static_cast<std::int64_t>(b.size());
  }
  li::Entry entry_for(int k, std::size_t len, std::int64_t t) {
    li::Entry e{};
    e.seq = ++seq;
    e.offset = static_cast<std::uint64_t>(logical[k]) - len;
    e.time_ns = t;
    e.length = static_cast<std::uint32_t>(len);
    e.stream = static_cast<std::uint8_t>(k + 1);
    e.version = li::kVersion;
    return e;
  }
  void raw_entry(const li::Entry& e) {
    put(index, std::string_view(reinterpret_cast<const char*>(&e), sizeof e));
  }
  /// One read of the shim: its bytes, then its entry.
  void write(int k, std::string_view b, std::int64_t t) {
    bytes(k, b);
    raw_entry(entry_for(k, b.size(), t));
  }
  UniqueFd reopen(const std::string& name) {
    return UniqueFd(::open((dir / name).c_str(), O_RDONLY | O_CLOEXEC));
  }
  std::size_t index_size() const { return static_cast<std::size_t>(::lseek(index, 0, SEEK_END)); }
};

struct Got {
  std::uint8_t stream;
  std::int64_t time;
  std::string bytes;
};

/// An IndexedReader over FakeLogs, unthrottled, collecting what it sends.
struct Harness {
  FakeLogs& logs;
  boost::asio::io_context io;
  sbx::daemon::Timers timers{io};
  std::vector<Got> got;
  int payloads = 0;
  std::vector<std::pair<int, std::int64_t>> jumps;  ///< stream, bytes skipped not filtered
  std::shared_ptr<IndexedReader> reader;

  explicit Harness(FakeLogs& l, TimeFilter filter = {}, bool want_out = true, bool want_err = true)
      : logs(l) {
    std::vector<LogSource> sources;
    if (want_out) sources.push_back(LogSource{logs.reopen("out"), 1, 0});
    if (want_err) sources.push_back(LogSource{logs.reopen("err"), 2, 0});
    auto cut = [this](std::uint8_t s) { return logs.collapsed[s - 1]; };
    reader = std::make_shared<IndexedReader>(
        logs.reopen("index"), std::move(sources), filter, cut,
        [this](std::uint8_t s, const std::vector<sbx::proto::ChunkRun>& runs, std::string_view b) {
          std::size_t at = 0;
          for (const auto& r : runs) {
            got.push_back({s, r.time_ns, std::string(b.substr(at, r.length))});
            at += r.length;
          }
          CHECK(at == b.size());
          payloads++;
        },
        nullptr, timers);
    reader->on_jump([this](std::uint8_t s, std::int64_t at, std::int64_t filtered) {
      jumps.emplace_back(s, at - reader->position(s) - filtered);
    });
  }
  void run() {
    reader->kick();
    io.run();
    io.restart();
  }
  std::string merged() const {
    std::string s;
    for (const auto& g : got) s += g.bytes;
    return s;
  }
};

}  // namespace

TEST_CASE("IndexedReader: both streams in the order they were written, with their times") {
  FakeLogs logs;
  logs.write(0, "o1\n", 100);
  logs.write(1, "e1\n", 200);
  logs.write(0, "o2\n", 300);
  logs.write(1, "e2\n", 400);
  Harness h(logs);
  h.reader->start_from({});
  h.reader->finish();
  h.run();
  REQUIRE(h.got.size() == 4);
  CHECK(h.merged() == "o1\ne1\no2\ne2\n");
  CHECK(h.got[1].stream == 2);
  CHECK(h.got[1].time == 200);
  CHECK(h.got[3].time == 400);
  CHECK(h.jumps.empty());
}

TEST_CASE("IndexedReader: a partial entry at the end waits for its last bytes") {
  FakeLogs logs;
  logs.write(0, "a\n", 1);
  logs.bytes(0, "b\n");
  li::Entry e = logs.entry_for(0, 2, 2);
  std::string raw(reinterpret_cast<const char*>(&e), sizeof e);
  FakeLogs::put(logs.index, raw.substr(0, 20));
  Harness h(logs);
  h.reader->start_from({});
  h.run();  // following: the torn entry is not the end of anything yet
  CHECK(h.merged() == "a\n");
  FakeLogs::put(logs.index, raw.substr(20));
  h.run();
  CHECK(h.merged() == "a\nb\n");
  CHECK(h.got[1].time == 2);
}

TEST_CASE("IndexedReader: bytes no entry covers are sent at the end, never lost") {
  FakeLogs logs;
  logs.write(1, "err\n", 5);
  logs.bytes(0, "unindexed\n");  // the shim died between the write and the entry
  Harness h(logs);
  h.reader->start_from({});
  h.run();
  CHECK(h.merged() == "err\n");  // still being written, perhaps
  h.reader->finish();
  h.run();
  CHECK(h.merged() == "err\nunindexed\n");
  CHECK(h.got[1].time > 0);  // the file's modification time
}

TEST_CASE("IndexedReader: bytes before an entry that no entry covers go with it") {
  FakeLogs logs;
  logs.bytes(0, "lost entry\n");
  logs.write(0, "next\n", 50);
  Harness h(logs);
  h.reader->start_from({});
  h.reader->finish();
  h.run();
  CHECK(h.merged() == "lost entry\nnext\n");
  CHECK(h.got[0].time == 50);
}

TEST_CASE("IndexedReader: resumes at logical offsets, mid-entry too") {
  FakeLogs logs;
  logs.write(0, "hello\n", 1);
  logs.write(1, "E1\n", 2);
  logs.write(0, "world\n", 3);
  Harness h(logs);
  std::optional<std::int64_t> from[2] = {3, 3};
  h.reader->start_from(from);
  h.reader->finish();
  h.run();
  CHECK(h.merged() == "lo\nworld\n");
}

TEST_CASE("IndexedReader: -n counts lines of the merged view") {
  FakeLogs logs;
  logs.write(0, "o1\no2\n", 1);
  logs.write(1, "e1\n", 2);
  logs.write(0, "o3\n", 3);
  logs.write(1, "e2\n", 4);
  for (auto [n, want] : std::vector<std::pair<int, std::string>>{{0, ""},
                                                                 {1, "e2\n"},
                                                                 {2, "o3\ne2\n"},
                                                                 {3, "e1\no3\ne2\n"},
                                                                 {4, "o2\ne1\no3\ne2\n"},
                                                                 {9, "o1\no2\ne1\no3\ne2\n"}}) {
    CAPTURE(n);
    Harness h(logs);
    h.reader->start_tail(n);
    h.reader->finish();
    h.run();
    CHECK(h.merged() == want);
    CHECK(h.jumps.empty());
  }
  Harness only_err(logs, {}, false, true);
  only_err.reader->start_tail(1);
  only_err.reader->finish();
  only_err.run();
  CHECK(only_err.merged() == "e2\n");
}

TEST_CASE("IndexedReader: --since/--until by chunk time, and no jump for what they leave out") {
  FakeLogs logs;
  for (int t = 1; t <= 5; ++t) logs.write(t % 2, "c" + std::to_string(t) + "\n", t * 100);
  TimeFilter f;
  f.since_ns = 200;
  f.until_ns = 400;
  Harness h(logs, f);
  h.reader->start_from({});
  h.reader->finish();
  h.run();
  CHECK(h.merged() == "c2\nc3\nc4\n");
  for (auto [s, lost] : h.jumps) CHECK(lost == 0);
}

TEST_CASE("Cursor: zero entries of a punched hole are skipped, torn ones too") {
  FakeLogs logs;
  std::string zeros(4096, '\0');
  FakeLogs::put(logs.index, zeros);
  logs.write(0, "x", 1);
  li::Entry junk = logs.entry_for(0, 0, 0);
  junk.version = 9;  // not ours
  logs.raw_entry(junk);
  logs.write(0, "y", 2);
  UniqueFd fd = logs.reopen("index");
  li::Cursor c(fd.get());
  c.sync();
  auto a = c.next();
  REQUIRE(a);
  CHECK(a->time_ns == 1);
  auto b = c.next();
  REQUIRE(b);
  CHECK(b->time_ns == 2);
  CHECK(!c.next());
}

TEST_CASE(
    "IndexedReader: a cut of the index and the logs keeps order; what a lagging reader missed is a "
    "jump") {
  FakeLogs logs;
  std::string line(100, 'a');
  line.back() = '\n';
  const int per_block = 4096 / 32;
  for (int i = 0; i < 3 * per_block; ++i) logs.write(i % 2, line, i + 1);
  Harness h(logs);
  h.reader->start_from({});
  h.run();
  REQUIRE(h.got.size() == std::size_t(3 * per_block));
  h.got.clear();
  // The front of the index and of both logs collapsed away (or punched, where collapse
  // is not supported), then more output.
  bool collapsed = ::fallocate(logs.index, FALLOC_FL_COLLAPSE_RANGE, 0, 4096) == 0;
  if (!collapsed)
    REQUIRE(::fallocate(logs.index, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0);
  for (int i = 0; i < 10; ++i) logs.write(i % 2, "new" + std::to_string(i) + "\n", 1000 + i);
  h.reader->finish();
  h.run();
  REQUIRE(h.got.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(h.got[i].time == 1000 + i);
  CHECK(h.jumps.empty());

  // A reader that had not read the cut part: it goes on after the cut, and says so.
  FakeLogs lag;
  for (int i = 0; i < 2 * per_block; ++i) lag.write(0, line, i + 1);
  Harness late(lag);
  late.reader->start_from({});
  std::int64_t cut = 4096 * 4;  // of stdout's bytes
  bool data_collapsed = ::fallocate(lag.out, FALLOC_FL_COLLAPSE_RANGE, 0, cut) == 0;
  if (data_collapsed)
    lag.collapsed[0] = cut;
  else
    REQUIRE(::fallocate(lag.out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, cut) == 0);
  late.reader->finish();
  late.run();
  REQUIRE(late.jumps.size() == 1);
  CHECK(late.jumps[0].second == cut);
  CHECK(late.merged().size() == 2 * per_block * line.size() - cut);
}

TEST_CASE("IndexedReader: contiguous chunks of one stream go in one payload, each with its time") {
  FakeLogs logs;
  for (int i = 0; i < 1000; ++i) logs.write(0, "line " + std::to_string(i) + "\n", 10 + i);
  logs.write(1, "err\n", 5000);
  logs.write(0, "after\n", 5001);
  Harness h(logs);
  h.reader->start_from({});
  h.reader->finish();
  h.run();
  REQUIRE(h.got.size() == 1002);
  for (int i = 0; i < 1000; ++i) CHECK(h.got[i].time == 10 + i);
  CHECK(h.got[1000].bytes == "err\n");
  CHECK(h.payloads == 3);
}
