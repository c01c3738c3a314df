#include "doctest.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/atomic_file.hpp"
#include "daemon/logs/cap.hpp"
#include "temp_dir.hpp"

using sbx::daemon::trim_log_file;
using sbx::daemon::Trimmed;

namespace {

/// Letters that cycle every 26 bytes: the bytes at an offset tell it apart from a shifted copy.
std::string numbered(std::size_t n, std::size_t from = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (from + i) * 7 % 26);
  return s;
}

void append(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string contents(const std::string& path) {
  auto text = sbx::read_file(path);
  REQUIRE(text.ok());
  return *text;
}

off_t data_start(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  off_t data = ::lseek(fd, 0, SEEK_DATA);
  ::close(fd);
  return data;
}

/// Whether files in `dir` can be collapsed (ext4, xfs) or only punched (tmpfs, btrfs).
bool can_collapse(const std::string& dir) {
  std::string probe = dir + "/probe";
  append(probe, std::string(2 * 4096, 'p'));
  int fd = ::open(probe.c_str(), O_RDWR | O_CLOEXEC);
  bool ok = ::fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096) == 0;
  ::close(fd);
  ::unlink(probe.c_str());
  return ok;
}

constexpr std::int64_t kCap = 40000;
constexpr off_t kSize = 100000;
constexpr off_t kKeepFrom = 77824;  // (100000 - 40000 / 2) rounded down to a 4 KiB block

/// Trims a 100000-byte file in `dir` with a 40000-byte cap, and checks the newest bytes
/// from the block at 77824 on are what a reader finds, whichever way the file was cut.
void trim_once(const std::string& dir, bool expect_collapse) {
  std::string path = dir + "/p.stdout";
  std::string all = numbered(kSize);
  append(path, all);
  auto t = trim_log_file(path, kCap);
  REQUIRE(t.ok());
  CHECK(t->removed == kKeepFrom);
  CHECK(t->shifted == expect_collapse);
  std::string now = contents(path);
  if (expect_collapse) {
    CHECK(t->kept_from == 0);
    CHECK(now == all.substr(kKeepFrom));  // offsets after the cut moved down by `removed`
  } else {
    CHECK(t->kept_from == kKeepFrom);
    REQUIRE(now.size() == all.size());  // a hole keeps the size: offsets stand
    CHECK(now.substr(kKeepFrom) == all.substr(kKeepFrom));
    CHECK(now.substr(0, kKeepFrom) == std::string(kKeepFrom, '\0'));
    CHECK(data_start(path) == kKeepFrom);
  }
}

}  // namespace

TEST_CASE("trim_log_file: collapses where the filesystem can, keeping the newest half of the cap") {
  TempDir dir;
  bool collapse = can_collapse(dir.path);
  CAPTURE(collapse);
  trim_once(dir.path, collapse);
}

TEST_CASE("trim_log_file: punches a hole on tmpfs, which cannot collapse") {
  struct stat st {};
  if (::stat("/dev/shm", &st) != 0 || !S_ISDIR(st.st_mode)) return;  // no tmpfs here
  char tmpl[] = "/dev/shm/sbx-unit-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  REQUIRE_FALSE(can_collapse(dir));
  trim_once(dir, false);
  ::unlink((dir + "/p.stdout").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("trim_log_file: a file under its cap, or without one, is left alone") {
  TempDir dir;
  std::string path = dir / "q.stdout";
  append(path, numbered(30000));
  for (std::int64_t cap :
       {std::int64_t{30000}, std::int64_t{1} << 40, std::int64_t{0}, std::int64_t{-1}}) {
    CAPTURE(cap);
    auto t = trim_log_file(path, cap);
    REQUIRE(t.ok());
    CHECK(t->removed == 0);
  }
  CHECK(contents(path) == numbered(30000));
}

TEST_CASE(
    "trim_log_file: after a hole, the cap counts the data past it and punches again from its end") {
  // A file whose data begins after a hole is never collapsed (its offsets must stand): the
  // next cut is a hole from where the data begins.
  TempDir dir;
  std::string path = dir / "r.stdout";
  std::string all = numbered(kSize);
  append(path, all);
  {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kKeepFrom) == 0);
    ::close(fd);
  }
  auto t = trim_log_file(path, kCap);  // 22176 bytes of data: under the cap
  REQUIRE(t.ok());
  CHECK(t->removed == 0);
  std::string more = numbered(60000, kSize);
  append(path, more);  // 160000 bytes, 82176 of data
  t = trim_log_file(path, kCap);
  REQUIRE(t.ok());
  constexpr off_t kNext = 139264;  // (160000 - 20000) rounded down to a block
  CHECK(t->shifted == false);
  CHECK(t->removed == kNext - kKeepFrom);
  CHECK(t->kept_from == kNext);
  std::string now = contents(path);
  REQUIRE(now.size() == 160000);
  CHECK(now.substr(kNext) == (all + more).substr(kNext));
  CHECK(data_start(path) == kNext);
}

TEST_CASE("trim_log_file: a file it cannot open is an error that names it") {
  TempDir dir;
  auto t = trim_log_file(dir / "missing.stdout", kCap);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message.find(dir / "missing.stdout") != std::string::npos);
}
