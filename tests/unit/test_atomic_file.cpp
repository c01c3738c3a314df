#include "doctest.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "common/atomic_file.hpp"
#include "temp_dir.hpp"

using sbx::Errc;
using sbx::read_file;
using sbx::write_file_atomic;

namespace {

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("write_file_atomic creates a file with the exact content") {
  TempDir dir;
  std::string path = dir / "rec.toml";
  auto st = write_file_atomic(path, "hello\n");
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  CHECK(slurp(path) == "hello\n");
  CHECK(entries(dir.path) == std::set<std::string>{"rec.toml"});
}

TEST_CASE("write_file_atomic replaces content; .tmp keeps the previous version, no new inode") {
  TempDir dir;
  std::string path = dir / "rec.toml";
  auto inodes = [&] {
    struct stat a {
    }, b{};
    REQUIRE(::stat(path.c_str(), &a) == 0);
    REQUIRE(::stat((path + ".tmp").c_str(), &b) == 0);
    return std::set<ino_t>{a.st_ino, b.st_ino};
  };
  REQUIRE(write_file_atomic(path, "a much longer first version of the file\n").ok());
  REQUIRE(write_file_atomic(path, "short").ok());
  CHECK(slurp(path) == "short");
  CHECK(slurp(path + ".tmp") == "a much longer first version of the file\n");
  CHECK(entries(dir.path) == std::set<std::string>{"rec.toml", "rec.toml.tmp"});
  auto both = inodes();
  REQUIRE(write_file_atomic(path, "").ok());
  CHECK(slurp(path).empty());
  CHECK(slurp(path + ".tmp") == "short");
  CHECK(inodes() == both);  // the two files take turns
  CHECK(entries(dir.path) == std::set<std::string>{"rec.toml", "rec.toml.tmp"});
  // The reused file is overwritten and cut to length, not truncated first.
  REQUIRE(write_file_atomic(path, "two").ok());
  REQUIRE(write_file_atomic(path, "xy").ok());
  CHECK(slurp(path) == "xy");
  CHECK(slurp(path + ".tmp") == "two");
  CHECK(inodes() == both);
}

TEST_CASE("write_file_atomic: binary content and a large file") {
  TempDir dir;
  std::string path = dir / "bin";
  std::string content("a\0b\xff\n", 5);
  for (int i = 0; i < 300'000; ++i) content += static_cast<char>(i * 7);
  REQUIRE(write_file_atomic(path, content).ok());
  auto back = read_file(path);
  REQUIRE(back.ok());
  CHECK(back->size() == content.size());
  CHECK(*back == content);
}

TEST_CASE("write_file_atomic: the file is private (0600)") {
  TempDir dir;
  std::string path = dir / "rec.toml";
  REQUIRE(write_file_atomic(path, "x").ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("write_file_atomic fails when the folder does not exist") {
  TempDir dir;
  std::string path = dir / "missing/rec.toml";
  auto st = write_file_atomic(path, "x");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::failed);
  CHECK(st.error().message.find(path) != std::string::npos);
  CHECK(entries(dir.path).empty());
}

TEST_CASE("write_file_atomic failure leaves the old file intact") {
  TempDir dir;
  std::string path = dir / "rec.toml";
  REQUIRE(write_file_atomic(path, "old content").ok());

  SUBCASE("the temp file cannot be created") {
    // A folder where the temp file would go makes open() fail.
    REQUIRE(::mkdir((path + ".tmp").c_str(), 0700) == 0);
    auto st = write_file_atomic(path, "new content");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Errc::failed);
    CHECK(slurp(path) == "old content");
    REQUIRE(::rmdir((path + ".tmp").c_str()) == 0);
  }
  SUBCASE("the rename fails") {
    // The target is a non-empty folder: rename() over it fails; the temp file must go.
    std::string target = dir / "folder";
    REQUIRE(::mkdir(target.c_str(), 0700) == 0);
    REQUIRE(write_file_atomic(target + "/inner", "inner").ok());
    auto st = write_file_atomic(target, "new content");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Errc::failed);
    CHECK(slurp(target + "/inner") == "inner");
    CHECK(entries(dir.path) == std::set<std::string>{"folder", "rec.toml"});
    CHECK(slurp(path) == "old content");
  }
}

TEST_CASE("read_file") {
  TempDir dir;
  SUBCASE("missing file is not_found and names the file") {
    auto r = read_file(dir / "nope");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::not_found);
    CHECK(r.error().message.find(dir / "nope") != std::string::npos);
  }
  SUBCASE("missing folder is not_found") {
    auto r = read_file(dir / "nope/nope");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::not_found);
  }
  SUBCASE("a folder is a failure, not not_found") {
    auto r = read_file(dir.path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::failed);
  }
  SUBCASE("empty file") {
    REQUIRE(write_file_atomic(dir / "empty", "").ok());
    auto r = read_file(dir / "empty");
    REQUIRE(r.ok());
    CHECK(r->empty());
  }
  SUBCASE("content bigger than one read buffer") {
    std::string content(200'000, 'z');
    content[65'536] = '\n';
    content.back() = '!';
    REQUIRE(write_file_atomic(dir / "big", content).ok());
    auto r = read_file(dir / "big");
    REQUIRE(r.ok());
    CHECK(*r == content);
  }
}
