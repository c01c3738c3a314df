#include "doctest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/run/file_pool.hpp"
#include "shim/protocol.hpp"
#include "temp_dir.hpp"

using sbx::daemon::FilePool;

namespace {

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

void make(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
}

/// The files the spare waiter `pid` makes (shim/spare.cpp), the first `n` of them.
void made_by(const std::string& dir, int pid, int n = sbx::waiter::kSpareFiles) {
  for (int k = 0; k < n; ++k) make(dir + "/" + std::to_string(pid) + "." + std::to_string(k));
}

struct Pool {
  TempDir tmp;
  std::string dir = tmp / "pool";
  Pool() { std::filesystem::create_directory(dir); }
};

}  // namespace

TEST_CASE("FilePool: an empty pool places nothing: the caller creates the file") {
  Pool p;
  FilePool pool(p.dir);
  CHECK_FALSE(pool.place(p.tmp / "a.stdout"));
  CHECK_FALSE(std::filesystem::exists(p.tmp / "a.stdout"));
}

TEST_CASE("FilePool: spares take turns between two folders in the pool") {
  Pool p;
  FilePool pool(p.dir);
  std::string a = pool.next_spare_dir();
  std::string b = pool.next_spare_dir();
  CHECK(a != b);
  CHECK(pool.next_spare_dir() == a);
  for (const auto& d : {a, b}) {
    CHECK(d.rfind(p.dir + "/", 0) == 0);
    CHECK(std::filesystem::is_directory(d));
  }
}

TEST_CASE("FilePool: while the pool holds enough, the next spare makes none") {
  Pool p;
  FilePool pool(p.dir);
  for (int pid = 1; pid <= 2; ++pid) {
    std::string d = pool.next_spare_dir();
    REQUIRE(d != sbx::waiter::kNoPool);
    made_by(d, pid);
    pool.add_made_by(pid, d);
  }
  CHECK(pool.next_spare_dir() == sbx::waiter::kNoPool);  // two starts of new ids' worth
  pool.add_made_by(3, sbx::waiter::kNoPool);             // such a spare adds nothing
  CHECK(pool.place(p.tmp / "a"));
  CHECK(pool.next_spare_dir() != sbx::waiter::kNoPool);
}

TEST_CASE("FilePool: the files a spare made are placed, each once, as empty files 0600") {
  Pool p;
  FilePool pool(p.dir);
  std::string d = pool.next_spare_dir();
  made_by(d, 4242);
  ino_t first = inode_of(d + "/4242.0");  // the oldest goes first
  pool.add_made_by(4242, d);
  REQUIRE(pool.place(p.tmp / "a.stdout"));
  CHECK(inode_of(p.tmp / "a.stdout") == first);
  CHECK(std::filesystem::file_size(p.tmp / "a.stdout") == 0);
  struct stat st {};
  REQUIRE(::stat((p.tmp / "a.stdout").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  for (int k = 1; k < sbx::waiter::kSpareFiles; ++k)
    CHECK(pool.place(p.tmp / ("f" + std::to_string(k))));
  CHECK(files_in(d) == 0);
  CHECK_FALSE(pool.place(p.tmp / "one.more"));
}

TEST_CASE("FilePool: a name whose file was not made is passed over") {
  Pool p;
  FilePool pool(p.dir);
  std::string d = pool.next_spare_dir();
  made_by(d, 7, 2);  // 7.0 and 7.1 only
  pool.add_made_by(7, d);
  CHECK(pool.place(p.tmp / "a"));
  CHECK(pool.place(p.tmp / "b"));
  CHECK_FALSE(pool.place(p.tmp / "c"));
  CHECK(files_in(d) == 0);
}

TEST_CASE("FilePool: a path that exists is left as it is, and the pool keeps its file") {
  Pool p;
  FilePool pool(p.dir);
  std::string d = pool.next_spare_dir();
  made_by(d, 9);
  pool.add_made_by(9, d);
  { std::ofstream(p.tmp / "a.stdout") << "output"; }
  CHECK_FALSE(pool.place(p.tmp / "a.stdout"));
  CHECK(std::filesystem::file_size(p.tmp / "a.stdout") == 6);
  CHECK(files_in(d) == static_cast<std::size_t>(sbx::waiter::kSpareFiles));
  CHECK(pool.place(p.tmp / "b.stdout"));  // the same file goes to the next path
}

TEST_CASE("FilePool: what an earlier daemon's spares left is used") {
  Pool p;
  std::filesystem::create_directory(p.dir + "/b");
  make(p.dir + "/b/123.0");
  FilePool pool(p.dir);
  CHECK(pool.place(p.tmp / "a"));
  CHECK_FALSE(pool.place(p.tmp / "b"));
}

TEST_CASE("FilePool: open takes the file there, else the pool's, else a new one") {
  Pool p;
  FilePool pool(p.dir);
  std::string d = pool.next_spare_dir();
  made_by(d, 5, 1);
  pool.add_made_by(5, d);
  { std::ofstream(p.tmp / "there") << "kept"; }
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  int fd = pool.open(p.tmp / "there", flags, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(std::filesystem::file_size(p.tmp / "there") == 4);
  CHECK(files_in(d) == 1);  // an open of a file there takes nothing from the pool
  ino_t pooled = inode_of(d + "/5.0");
  fd = pool.open(p.tmp / "new", flags, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(inode_of(p.tmp / "new") == pooled);
  fd = pool.open(p.tmp / "newer", flags, 0600);  // the pool is empty: created
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(std::filesystem::exists(p.tmp / "newer"));
  CHECK(pool.open(p.tmp / "no-such-dir/x", flags, 0600) == -1);
  CHECK(errno == ENOENT);
}
