#include "doctest.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "daemon/logs/reader.hpp"
#include "daemon/timers.hpp"
#include "proto/protocol.hpp"

using sbx::daemon::LogReader;
using sbx::daemon::LogSource;
using sbx::daemon::resume_offset;
using sbx::daemon::tail_offset;
using sbx::daemon::Trimmed;

namespace {

constexpr off_t kBlock = 65536;  // tail_offset reads backwards in blocks of this size

/// An unlinked temp file holding `content`; the fd closes at the end of the test.
struct TempFile {
  int fd = -1;
  off_t size = 0;
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/sbx-unit-tail-XXXXXX";
    fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::unlink(tmpl);
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
    size = static_cast<off_t>(content.size());
  }
  ~TempFile() {
    if (fd >= 0) ::close(fd);
  }
  off_t tail(std::int64_t lines) const { return tail_offset(fd, size, lines); }
};

/// The obvious answer: the start of the last `lines` lines (a last line without '\n'
/// counts), size for 0 lines, 0 when the file holds no more than `lines` lines.
off_t reference_tail(const std::string& s, std::int64_t lines) {
  if (lines <= 0) return static_cast<off_t>(s.size());
  std::int64_t seen = 0;
  std::size_t end = s.size();
  if (end > 0 && s[end - 1] == '\n') --end;  // the newline ending the last line
  for (std::size_t i = end; i-- > 0;) {
    if (s[i] == '\n' && ++seen == lines) return static_cast<off_t>(i + 1);
  }
  return 0;
}

}  // namespace

TEST_CASE("tail_offset: small file with a trailing newline") {
  TempFile f("one\ntwo\nthree\n");  // lines start at 0, 4, 8
  CHECK(f.tail(1) == 8);
  CHECK(f.tail(2) == 4);
  CHECK(f.tail(3) == 0);
  CHECK(f.tail(4) == 0);
  CHECK(f.tail(1000) == 0);
}

TEST_CASE("tail_offset: small file without a trailing newline") {
  TempFile f("one\ntwo\nthree");
  CHECK(f.tail(1) == 8);
  CHECK(f.tail(2) == 4);
  CHECK(f.tail(3) == 0);
  CHECK(f.tail(10) == 0);
}

TEST_CASE("tail_offset: zero (or negative) lines is the end of the file") {
  TempFile f("one\ntwo\n");
  CHECK(f.tail(0) == f.size);
  CHECK(f.tail(-5) == f.size);
  TempFile g("no newline");
  CHECK(g.tail(0) == g.size);
}

TEST_CASE("tail_offset: degenerate files") {
  SUBCASE("empty") {
    TempFile f("");
    CHECK(f.tail(1) == 0);
    CHECK(f.tail(0) == 0);
  }
  SUBCASE("one line") {
    TempFile f("only\n");
    CHECK(f.tail(1) == 0);
    TempFile g("only");
    CHECK(g.tail(1) == 0);
  }
  SUBCASE("just a newline") {
    TempFile f("\n");
    CHECK(f.tail(1) == 0);
  }
  SUBCASE("empty lines") {
    TempFile f("\n\n\n");  // three empty lines, starting at 0, 1, 2
    CHECK(f.tail(1) == 2);
    CHECK(f.tail(2) == 1);
    CHECK(f.tail(3) == 0);
    CHECK(f.tail(4) == 0);
  }
  SUBCASE("blank last line before the end") {
    TempFile f("a\n\n");  // lines "a" and ""
    CHECK(f.tail(1) == 2);
    CHECK(f.tail(2) == 0);
  }
}

TEST_CASE("tail_offset: the size argument bounds the search") {
  // Bytes past `size` (written since the size was taken) are not looked at.
  TempFile f("one\ntwo\nthree\nfour\n");
  CHECK(tail_offset(f.fd, 8, 1) == 4);  // as if the file were "one\ntwo\n"
  CHECK(tail_offset(f.fd, 8, 2) == 0);
  CHECK(tail_offset(f.fd, 10, 1) == 8);  // "one\ntwo\nth"
}

TEST_CASE("tail_offset: line boundaries at the 64 KiB block edge") {
  // The last block read is [size - 64 KiB, size); the one before ends at size - 64 KiB.
  SUBCASE("newline is the last byte of the earlier block") {
    std::string s = std::string(1000, 'x') + "\n" + std::string(kBlock - 1, 'y') + "\n";
    TempFile f(s);
    REQUIRE(f.size - kBlock == 1001);  // the last line starts exactly at the block edge
    CHECK(f.tail(1) == 1001);
    CHECK(f.tail(2) == 0);
  }
  SUBCASE("newline is the first byte of the last block") {
    std::string s = std::string(1000, 'x') + "\n" + std::string(kBlock - 2, 'y') + "\n";
    TempFile f(s);
    REQUIRE(f.size - kBlock == 1000);
    CHECK(f.tail(1) == 1001);
    CHECK(f.tail(2) == 0);
  }
  SUBCASE("file of exactly one block, final newline at its end") {
    std::string s = std::string(kBlock - 1, 'z') + "\n";
    TempFile f(s);
    CHECK(f.tail(1) == 0);
  }
  SUBCASE("file of one block plus one byte: a lone newline before the edge") {
    std::string s = "\n" + std::string(kBlock - 1, 'z') + "\n";
    TempFile f(s);
    REQUIRE(f.size == kBlock + 1);
    CHECK(f.tail(1) == 1);
    CHECK(f.tail(2) == 0);
  }
  SUBCASE("a last line one byte longer than a block") {
    // The first block read holds only the last line's tail; its start is in the next one.
    std::string s = "first\n" + std::string(kBlock, 'w') + "\n";
    TempFile f(s);
    CHECK(f.tail(1) == 6);
    CHECK(f.tail(2) == 0);
  }
  SUBCASE("one line longer than two blocks") {
    std::string s = "head\n" + std::string(3 * kBlock, 'q') + "\n";
    TempFile f(s);
    CHECK(f.tail(1) == 5);
    CHECK(f.tail(2) == 0);
    TempFile g("head\n" + std::string(3 * kBlock, 'q'));  // no final newline
    CHECK(g.tail(1) == 5);
  }
}

TEST_CASE("tail_offset: many lines over several blocks match a plain scan") {
  // Lines of varying length so boundaries land everywhere, including on block edges.
  std::string s;
  for (int i = 0; s.size() < 300'000; ++i) {
    s += std::string(static_cast<std::size_t>(i * 37 % 250), static_cast<char>('a' + i % 26));
    s += '\n';
  }
  for (bool trailing : {true, false}) {
    std::string content = trailing ? s : s.substr(0, s.size() - 1);
    TempFile f(content);
    std::int64_t total = 0;
    for (char c : s) total += c == '\n';
    for (std::int64_t n :
         {std::int64_t{1}, std::int64_t{2}, std::int64_t{10}, std::int64_t{100}, std::int64_t{500},
          std::int64_t{1000}, total - 1, total, total + 1, std::int64_t{1} << 40}) {
      CAPTURE(trailing);
      CAPTURE(n);
      CHECK(f.tail(n) == reference_tail(content, n));
    }
  }
}

TEST_CASE("tail_offset: every line count around the block edges") {
  // 100-byte lines put the block edges inside lines (64 KiB = 655*100 + 36); with 128-byte
  // and 1-byte lines every block edge is also a line boundary.
  for (std::size_t line_len : {std::size_t{100}, std::size_t{128}, std::size_t{1}}) {
    std::string s;
    while (s.size() < 3 * static_cast<std::size_t>(kBlock) + 17) {
      s += std::string(line_len - 1, 'l');
      s += '\n';
    }
    TempFile f(s);
    std::int64_t total = static_cast<std::int64_t>(s.size() / line_len);
    for (std::int64_t n = 1; n <= total + 1; n += (line_len == 1 ? 97 : 1)) {
      CAPTURE(line_len);
      CAPTURE(n);
      off_t want = reference_tail(s, n);
      off_t got = f.tail(n);
      if (got != want) {
        CHECK(got == want);
        break;
      }
    }
    CHECK(f.tail(total) == 0);
    CHECK(f.tail(total - 1) == static_cast<off_t>(line_len));
  }
}

TEST_CASE("resume_offset: a logical offset to a file offset") {
  CHECK(resume_offset(100, 0, 200) == 100);
  CHECK(resume_offset(100, 40, 200) == 60);  // 40 bytes were cut from the front
  CHECK(resume_offset(40, 40, 200) == 0);
  CHECK(resume_offset(30, 40, 200) == 0);    // the bytes it would resume at were dropped
  CHECK(resume_offset(500, 0, 200) == 200);  // nothing past the end
  CHECK(resume_offset(0, 0, 0) == 0);
  CHECK(resume_offset(std::int64_t{5} << 32, std::int64_t{5} << 32, 10) == 0);
}

namespace {

constexpr std::uint8_t kOut = 1;

/// A LogReader over one stream of `file`, from `offset`, collecting what it passes on.
struct Reader {
  boost::asio::io_context io;
  sbx::daemon::Timers timers{io};
  std::string got;
  std::shared_ptr<LogReader> reader;
  Reader(const TempFile& file, off_t offset) {
    std::vector<LogSource> sources(1);
    sources[0].fd.reset(::dup(file.fd));
    sources[0].stream = kOut;
    sources[0].offset = offset;
    reader = std::make_shared<LogReader>(
        std::move(sources), [this](std::uint8_t, std::string_view bytes) { got.append(bytes); },
        nullptr, timers);
  }
};

const std::string kThreeBlocks =
    std::string(4096, 'a') + std::string(4096, 'b') + std::string(4096, 'c');

}  // namespace

TEST_CASE("LogReader: a reader inside a punched hole jumps past it and reads no zeros") {
  TempFile f(kThreeBlocks);
  Reader r(f, 100);
  // What trim_log_file does where the filesystem cannot collapse: the file keeps its size.
  REQUIRE(::fallocate(f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 8192) == 0);
  r.reader->trimmed(kOut, Trimmed{8192, false, 8192});
  CHECK(r.reader->offset(kOut) == 8192);
  r.reader->kick();
  CHECK(r.got == std::string(4096, 'c'));
  CHECK(r.reader->offset(kOut) == 3 * 4096);
}

TEST_CASE("LogReader: a punched hole behind a reader leaves it where it is") {
  TempFile f(kThreeBlocks);
  Reader r(f, 9000);
  REQUIRE(::fallocate(f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0);
  r.reader->trimmed(kOut, Trimmed{4096, false, 8192});
  CHECK(r.reader->offset(kOut) == 9000);
  r.reader->trimmed(2, Trimmed{12288, false, 12288});  // the other stream's cut
  CHECK(r.reader->offset(kOut) == 9000);
}

TEST_CASE("LogReader: after a collapse the offset moves down by the cut, or to 0 inside it") {
  TempFile f(kThreeBlocks);
  Reader behind(f, 5000), inside(f, 100), at(f, 4096);
  for (Reader* r : {&behind, &inside, &at}) r->reader->trimmed(kOut, Trimmed{4096, true, 0});
  CHECK(behind.reader->offset(kOut) == 5000 - 4096);
  CHECK(inside.reader->offset(kOut) == 0);
  CHECK(at.reader->offset(kOut) == 0);
  CHECK(behind.reader->offset(2) == -1);
}

TEST_CASE("LogReader: trimmed says whether bytes it had not read were dropped") {
  TempFile f(kThreeBlocks);
  Reader caught_up(f, 0), lagging(f, 1000);
  caught_up.reader->kick();
  CHECK(caught_up.got.size() == kThreeBlocks.size());
  CHECK_FALSE(caught_up.reader->trimmed(kOut, Trimmed{4096, true, 0}));  // it had read them all
  CHECK(caught_up.reader->offset(kOut) == 3 * 4096 - 4096);
  CHECK(lagging.reader->trimmed(kOut, Trimmed{4096, true, 0}));     // 3096 bytes it never had
  CHECK_FALSE(lagging.reader->trimmed(2, Trimmed{4096, true, 0}));  // not a stream it reads
  Reader in_hole(f, 100), past_hole(f, 9000);
  CHECK(in_hole.reader->trimmed(kOut, Trimmed{8192, false, 8192}));
  CHECK_FALSE(past_hole.reader->trimmed(kOut, Trimmed{8192, false, 8192}));
}
