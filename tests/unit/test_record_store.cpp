#include "doctest.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <string>

#include "common/atomic_file.hpp"
#include "common/paths.hpp"
#include "common/record.hpp"
#include "daemon/run/record_store.hpp"
#include "daemon/timers.hpp"
#include "temp_dir.hpp"

using namespace sbx;

namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

ProcessRecord record(const std::string& id, ProcStatus status) {
  ProcessRecord r;
  r.id = id;
  r.argv = {"sleep", "1"};
  r.command = "sleep 1";
  r.cwd = "/";
  r.status = status;
  return r;
}

}  // namespace

TEST_CASE(
    "final records are committed together, and an exit file goes only once its record is durable") {
  TempDir home;
  auto paths = resolve_paths(home.path);
  REQUIRE(paths);
  REQUIRE(ensure_dir(paths->state_dir));
  REQUIRE(ensure_dir(paths->processes_dir));
  boost::asio::io_context io;
  daemon::Timers timers(io);
  daemon::RecordStore store(*paths, timers, [](const std::string&) { return nullptr; });
  for (const char* id : {"a", "b"}) {
    REQUIRE(store.save(record(id, ProcStatus::running)));
    std::ofstream(paths->exit_path(id)) << "0\n";
    REQUIRE(store.save(record(id, ProcStatus::completed)));
  }
  // Until the commit the disk has the running records and the exit files, which the next
  // daemon would learn the status from.
  for (const char* id : {"a", "b"}) {
    CHECK(read_file(paths->record_path(id)).value().find("status = \"running\"") !=
          std::string::npos);
    CHECK(exists(paths->exit_path(id)));
  }
  io.run();
  for (const char* id : {"a", "b"}) {
    CHECK(read_file(paths->record_path(id)).value().find("status = \"completed\"") !=
          std::string::npos);
    CHECK_FALSE(exists(paths->exit_path(id)));
    CHECK_FALSE(exists(paths->record_path(id) + ".tmp"));
  }

  // A later start's record replaces a final one not committed yet.
  REQUIRE(store.save(record("c", ProcStatus::failed)));
  REQUIRE(store.save(record("c", ProcStatus::running)));
  io.restart();
  io.run();
  CHECK(read_file(paths->record_path("c")).value().find("status = \"running\"") !=
        std::string::npos);
}

TEST_CASE("a store that goes away commits what it holds") {
  TempDir home;
  auto paths = resolve_paths(home.path);
  REQUIRE(paths);
  REQUIRE(ensure_dir(paths->state_dir));
  REQUIRE(ensure_dir(paths->processes_dir));
  boost::asio::io_context io;
  daemon::Timers timers(io);
  {
    daemon::RecordStore store(*paths, timers, [](const std::string&) { return nullptr; });
    REQUIRE(store.save(record("x", ProcStatus::killed)));
  }
  CHECK(read_file(paths->record_path("x")).value().find("status = \"killed\"") !=
        std::string::npos);
}
