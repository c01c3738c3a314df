#include "doctest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "common/log_index.hpp"
#include "daemon/logs/index_end.hpp"
#include "daemon/run/spawn.hpp"
#include "temp_dir.hpp"

using sbx::UniqueFd;
using namespace sbx::daemon;
namespace li = sbx::log_index;

namespace {

li::Entry entry(std::uint64_t seq, std::uint8_t stream = 1) {
  li::Entry e{};
  e.seq = seq;
  e.offset = 0;
  e.time_ns = 1;
  e.length = 1;
  e.stream = stream;
  e.version = li::kVersion;
  return e;
}

std::vector<unsigned char> bytes_of(const std::vector<li::Entry>& es) {
  std::vector<unsigned char> out(es.size() * li::kEntrySize);
  for (std::size_t i = 0; i < es.size(); ++i)
    std::memcpy(out.data() + i * li::kEntrySize, &es[i], li::kEntrySize);
  return out;
}

UniqueFd file_with(const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  REQUIRE(fd);
  REQUIRE(::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  return fd;
}

}  // namespace

TEST_CASE(
    "next_seq_after: one past the highest valid entry; holes and unknown versions are skipped") {
  CHECK(next_seq_after(nullptr, 0) == 1);
  auto b = bytes_of({entry(7), entry(8, 2), entry(9)});
  CHECK(next_seq_after(b.data(), b.size()) == 10);
  auto holes = bytes_of({entry(4), li::Entry{}, li::Entry{}});  // zeros: a punched hole
  CHECK(next_seq_after(holes.data(), holes.size()) == 5);
  li::Entry future = entry(50);
  future.version = 2;
  auto mixed = bytes_of({entry(3), future});
  CHECK(next_seq_after(mixed.data(), mixed.size()) == 4);
  CHECK(next_seq_after(b.data(), b.size() - 1) == 9);  // a torn last entry does not count
}

TEST_CASE(
    "read_log_ends: logical ends count what caps collapsed; a torn entry is cut off the index") {
  TempDir dir;
  auto out = file_with(dir / "a.stdout", "hello");
  auto err = file_with(dir / "a.stderr", "e");
  auto b = bytes_of({entry(1), entry(2, 2)});
  std::string index_bytes(reinterpret_cast<const char*>(b.data()), b.size());
  auto index = file_with(dir / "a.index", index_bytes + "torn");
  sbx::ProcessRecord r;
  r.collapsed_stdout = 8192;
  auto ends = read_log_ends(index.get(), out.get(), err.get(), r);
  CHECK(ends.next_seq == 3);
  CHECK(ends.stdout_end == 8192 + 5);
  CHECK(ends.stderr_end == 1);
  struct stat st {};
  REQUIRE(::fstat(index.get(), &st) == 0);
  CHECK(st.st_size == 64);
}

TEST_CASE("read_log_ends: the last of many blocks gives the seq") {
  TempDir dir;
  std::vector<li::Entry> es;
  for (std::uint64_t s = 1; s <= 1000; ++s) es.push_back(entry(s));
  auto b = bytes_of(es);
  auto index =
      file_with(dir / "a.index", std::string(reinterpret_cast<const char*>(b.data()), b.size()));
  auto out = file_with(dir / "a.stdout", "");
  auto err = file_with(dir / "a.stderr", "");
  CHECK(read_log_ends(index.get(), out.get(), err.get(), sbx::ProcessRecord{}).next_seq == 1001);
}

TEST_CASE("reported_relay: the relay's pid after the exit line") {
  CHECK(reported_relay("exit 0\nrelay 1234\n") == 1234);
  CHECK_FALSE(reported_relay("exit 0\n").has_value());
  CHECK_FALSE(reported_relay("exit 0\nrelay 1\n").has_value());
  CHECK_FALSE(reported_relay("exit 0\nrelay x\n").has_value());
  CHECK(reported_status("exit 256\nrelay 99\n") == 256);
}
