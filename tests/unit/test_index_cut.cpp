#include "doctest.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/log_index.hpp"
#include "daemon/logs/index_cut.hpp"
#include "temp_dir.hpp"

using namespace sbx::daemon;
namespace li = sbx::log_index;

namespace {

constexpr std::size_t kPerBlock = 4096 / li::kEntrySize;

/// An index of `n` entries of 10 bytes each, alternating streams as `stream_of` says.
void write_index(const std::string& path, std::size_t n, std::uint8_t (*stream_of)(std::size_t)) {
  std::string bytes;
  std::uint64_t end[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    li::Entry e{};
    e.seq = i + 1;
    e.stream = stream_of(i);
    e.offset = end[e.stream];
    e.length = 10;
    e.time_ns = 1;
    e.version = li::kVersion;
    end[e.stream] += 10;
    bytes.append(reinterpret_cast<const char*>(&e), sizeof e);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::uint8_t all_stdout(std::size_t) { return 1; }
std::uint8_t err_first(std::size_t i) { return i == 0 ? 2 : 1; }

std::vector<li::Entry> entries(const std::string& path) {
  auto text = sbx::read_file(path);
  REQUIRE(text.ok());
  std::vector<li::Entry> out;
  for (std::size_t at = 0; at + li::kEntrySize <= text->size(); at += li::kEntrySize)
    out.push_back(li::decode(reinterpret_cast<const unsigned char*>(text->data()) + at));
  return out;
}

std::uint64_t first_seq(const std::string& path) {
  for (const auto& e : entries(path))
    if (li::valid(e)) return e.seq;
  return 0;
}

}  // namespace

TEST_CASE(
    "cut_index_file: whole blocks whose bytes are all cut go; a block with a kept byte stays") {
  TempDir dir;
  std::string path = dir / "a.index";
  write_index(path, 4 * kPerBlock, all_stdout);  // stdout bytes 0 .. 5120
  // Kept from inside the 2nd block's last entry: only the first block is wholly cut.
  auto cut = cut_index_file(path, 2 * kPerBlock * 10 - 5, 0);
  REQUIRE(cut.ok());
  CHECK(cut->removed == 4096);
  CHECK(first_seq(path) == kPerBlock + 1);
  // Nothing more is cut when the same bytes are kept.
  auto again = cut_index_file(path, 2 * kPerBlock * 10 - 5, 0);
  REQUIRE(again.ok());
  CHECK(again->removed == 0);
}

TEST_CASE("cut_index_file: never the block holding the last entry, even with every byte cut") {
  TempDir dir;
  std::string path = dir / "a.index";
  write_index(path, 2 * kPerBlock, all_stdout);  // exactly two blocks
  auto cut = cut_index_file(path, 1'000'000, 1'000'000);
  REQUIRE(cut.ok());
  CHECK(cut->removed == 4096);
  auto left = entries(path);
  REQUIRE(!left.empty());
  CHECK(left.back().seq == 2 * kPerBlock);
}

TEST_CASE("cut_index_file: an entry of the other stream whose bytes are kept holds its block") {
  TempDir dir;
  std::string path = dir / "a.index";
  write_index(path, 3 * kPerBlock, err_first);    // the first entry is stderr's bytes 0 .. 10
  auto cut = cut_index_file(path, 1'000'000, 0);  // stdout all cut, stderr all kept
  REQUIRE(cut.ok());
  CHECK(cut->removed == 0);
  CHECK(first_seq(path) == 1);
  auto cut2 = cut_index_file(path, 1'000'000, 10);  // now stderr's first chunk is cut too
  REQUIRE(cut2.ok());
  CHECK(cut2->removed == 2 * 4096);
}

TEST_CASE("cut_index_file: after a punched hole it goes on from the first block left") {
  TempDir dir;
  std::string path = dir / "a.index";
  write_index(path, 4 * kPerBlock, all_stdout);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0);
  ::close(fd);
  auto cut = cut_index_file(path, 2 * kPerBlock * 10, 0);  // the first two blocks' bytes
  REQUIRE(cut.ok());
  CHECK(cut->removed == 4096);
  CHECK(first_seq(path) == 2 * kPerBlock + 1);
}
