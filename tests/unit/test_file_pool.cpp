#include "doctest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "daemon/run/file_pool.hpp"
#include "daemon/timers.hpp"
#include "temp_dir.hpp"

using sbx::daemon::FilePool;
using sbx::daemon::kPoolFiles;
using sbx::daemon::Timers;

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

struct Pool {
  TempDir tmp;
  std::string dir = tmp / "pool";
  boost::asio::io_context io;
  Timers timers{io};
  Pool() { std::filesystem::create_directory(dir); }
};

}  // namespace

TEST_CASE("FilePool: an empty pool places nothing; a refill fills it up on the loop") {
  Pool p;
  FilePool pool(p.dir, p.timers);
  CHECK_FALSE(pool.place(p.tmp / "a.stdout"));
  CHECK_FALSE(std::filesystem::exists(p.tmp / "a.stdout"));  // the caller creates it
  p.io.run();
  CHECK(files_in(p.dir) == 0);  // only when asked
  pool.refill();
  CHECK(files_in(p.dir) == 0);  // not before the loop runs
  p.io.restart();
  p.io.run();
  CHECK(files_in(p.dir) == kPoolFiles);
  REQUIRE(pool.place(p.tmp / "a.stdout"));
  CHECK(files_in(p.dir) == kPoolFiles - 1);
}

TEST_CASE("FilePool: a file placed is an empty file of the pool, and the pool refills") {
  Pool p;
  ::close(::open((p.dir + "/7").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));  // an earlier daemon's
  ino_t left = inode_of(p.dir + "/7");
  FilePool pool(p.dir, p.timers);
  REQUIRE(pool.place(p.tmp / "a.stdout"));
  CHECK(inode_of(p.tmp / "a.stdout") == left);
  CHECK(std::filesystem::file_size(p.tmp / "a.stdout") == 0);
  struct stat st {};
  REQUIRE(::stat((p.tmp / "a.stdout").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  pool.refill();
  p.io.run();
  CHECK(files_in(p.dir) == kPoolFiles);
  CHECK_FALSE(std::filesystem::exists(p.dir + "/7"));  // names go on after the ones found
  CHECK(std::filesystem::exists(p.dir + "/8"));
}

TEST_CASE("FilePool: a path that exists is left as it is, and the pool keeps its file") {
  Pool p;
  FilePool pool(p.dir, p.timers);
  pool.refill();
  p.io.run();
  REQUIRE(files_in(p.dir) == kPoolFiles);
  {
    std::ofstream(p.tmp / "a.stdout") << "output";
  }
  CHECK_FALSE(pool.place(p.tmp / "a.stdout"));
  CHECK(std::filesystem::file_size(p.tmp / "a.stdout") == 6);
  CHECK(files_in(p.dir) == kPoolFiles);
}

TEST_CASE("FilePool: without its folder it places nothing, and creates nothing") {
  Pool p;
  FilePool pool(p.tmp / "gone", p.timers);
  CHECK_FALSE(pool.place(p.tmp / "a.stdout"));
  pool.refill();
  p.io.run();
  CHECK_FALSE(std::filesystem::exists(p.tmp / "gone"));
  CHECK_FALSE(std::filesystem::exists(p.tmp / "a.stdout"));
}
