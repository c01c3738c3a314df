#include "doctest.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "daemon/run/report_watch.hpp"
#include "daemon/run/spawn.hpp"
#include "temp_dir.hpp"

using sbx::UniqueFd;
using namespace sbx::daemon;

TEST_CASE("parse_launch_report: the program's pid once it was exec'd") {
  auto r = parse_launch_report("ok 4242");
  REQUIRE(r.ok());
  CHECK(*r == 4242);
  CHECK_FALSE(parse_launch_report("ok 1").ok());  // init is nobody's program
  CHECK_FALSE(parse_launch_report("ok 0").ok());
  CHECK_FALSE(parse_launch_report("ok -5").ok());
  CHECK_FALSE(parse_launch_report("ok").ok());
}

TEST_CASE("parse_launch_report: why the program could not be started") {
  auto exec = parse_launch_report("err exec " + std::to_string(ENOENT));
  REQUIRE_FALSE(exec.ok());
  CHECK(exec.error().message == std::strerror(ENOENT));
  auto cwd = parse_launch_report("err chdir " + std::to_string(EACCES));
  REQUIRE_FALSE(cwd.ok());
  CHECK(cwd.error().message ==
        std::string("cannot enter its working directory: ") + std::strerror(EACCES));
}

TEST_CASE("parse_launch_report: E2BIG from exec gives the caller's reason, when it has one") {
  std::string e2big = "err exec " + std::to_string(E2BIG);
  auto with =
      parse_launch_report(e2big, [] { return std::string("argument list too large (9 bytes)"); });
  REQUIRE_FALSE(with.ok());
  CHECK(with.error().message == "argument list too large (9 bytes)");
  auto without = parse_launch_report(e2big);
  REQUIRE_FALSE(without.ok());
  CHECK(without.error().message == std::strerror(E2BIG));
  // Only exec's E2BIG: chdir's is the plain errno text.
  auto chdir =
      parse_launch_report("err chdir " + std::to_string(E2BIG), [] { return std::string("no"); });
  REQUIRE_FALSE(chdir.ok());
  CHECK(chdir.error().message ==
        std::string("cannot enter its working directory: ") + std::strerror(E2BIG));
}

TEST_CASE(
    "parse_launch_report: nothing, or anything else, is a waiter that ended without a report") {
  for (const char* line : {"", "exit 0", "okay 12", "err", "err exec", "garbage"}) {
    CAPTURE(line);
    auto r = parse_launch_report(line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "the waiter sbx-shim ended without a report");
  }
}

TEST_CASE("exec_too_large: names the string over the kernel's one-string limit, else the total") {
  std::vector<std::string> argv{"prog", std::string(200 * 1024, 'x')};
  CHECK(exec_too_large(argv, {}).find(
            "an argument or environment string is too large (204801 bytes") == 0);
  std::vector<std::string> many(3, std::string(1000, 'y'));
  std::string total = exec_too_large(many, {"A=1"});
  CHECK(total.find("argument list and environment too large (") == 0);
  CHECK(total.find(std::to_string(3 * (1001 + sizeof(char*)) + 4 + sizeof(char*)) + " bytes") !=
        std::string::npos);
}

TEST_CASE("reported_status, and ReportWatch::text: from what was seen and the socket") {
  CHECK(reported_status("exit 256\n") == 256);
  CHECK_FALSE(reported_status("").has_value());
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  UniqueFd ours(sv[0]), theirs(sv[1]);
  ::fcntl(ours.get(), F_SETFL, O_NONBLOCK);
  boost::asio::io_context io;
  ReportWatch report(io, std::move(ours), "ex");
  CHECK_FALSE(reported_status(report.text()).has_value());  // nothing yet: no blocking
  REQUIRE(::write(theirs.get(), "it 9\n", 5) == 5);
  theirs.reset();
  CHECK(reported_status(report.text()) == 9);  // split across the two
}

TEST_CASE("read_exit_status: the wait status in the exit file, if there is one") {
  TempDir dir;
  CHECK_FALSE(read_exit_status(dir / "none.exit").has_value());
  auto put = [&](const std::string& name, const std::string& text) {
    int fd = ::open((dir / name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
  };
  put("a.exit", "768\n");
  CHECK(read_exit_status(dir / "a.exit") == 768);
  put("b.exit", "");
  CHECK_FALSE(read_exit_status(dir / "b.exit").has_value());
  put("c.exit", "x");
  CHECK_FALSE(read_exit_status(dir / "c.exit").has_value());
}

namespace {

/// The sbx-shim of this build: SBX_SHIM, else build/src/sbx-shim next to build/tests/unit.
std::string built_waiter() {
  if (const char* p = std::getenv("SBX_SHIM"); p && *p) return p;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  std::string dir(self, static_cast<std::size_t>(n));
  dir = dir.substr(0, dir.rfind('/'));
  std::string shim = dir + "/../../src/sbx-shim";
  REQUIRE(::access(shim.c_str(), X_OK) == 0);
  return shim;
}

/// Reads `fd` (non-blocking) until end of file or `want` bytes, waiting at most 10 s.
std::string read_report(int fd, std::size_t want = 4096) {
  std::string got;
  char buf[256];
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    REQUIRE(n >= 0);
    if (n == 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

/// A waiter for `program` with /dev/null as its stdio, exiting into `dir`/run.exit.
struct Waiter {
  UniqueFd null{::open("/dev/null", O_RDWR | O_CLOEXEC)};
  SpawnedWaiter w;
  Waiter(const TempDir& dir, const std::string& program, std::vector<std::string> argv) {
    SpawnRequest req;
    req.waiter = built_waiter();
    req.exit_file = dir / "run.exit";
    req.program = program;
    req.argv = std::move(argv);
    req.envp = {"PATH=/usr/bin:/bin"};
    req.cwd = dir.path;
    req.stdin_fd = req.stdout_fd = req.stderr_fd = null.get();
    auto spawned = spawn_waiter(req);
    REQUIRE(spawned.ok());
    w = std::move(*spawned);
  }
  /// The waiter's own wait status.
  int reap() {
    int status = -1;
    REQUIRE(::waitpid(w.waiter, &status, 0) == w.waiter);
    return status;
  }
};

}  // namespace

/// Reads the waiter's report up to its end line ("exit STATUS\n"), as sbxd does; returns its
/// status, with the program's pid in `pid`.
int read_until_exit(int fd, pid_t& pid) {
  std::string text;
  while (text.find("\nexit ") == std::string::npos || text.back() != '\n') {
    std::string more = read_report(fd, 1);
    REQUIRE_FALSE(more.empty());  // the waiter waits for our word: its socket stays open
    text += more;
  }
  auto nl = text.find('\n');
  auto launched = parse_launch_report(text.substr(0, nl));
  REQUIRE(launched.ok());
  pid = *launched;
  auto status = reported_status(text.substr(nl + 1));
  REQUIRE(status.has_value());
  return *status;
}

/// A real waiter of `exit 3`, let go and read up to its end line.
struct EndedRun {
  TempDir dir;
  Waiter run{dir, "/bin/sh", {"sh", "-c", "exit 3"}};
  pid_t pid = 0;
  int status = -1;
  EndedRun() {
    REQUIRE(release_waiter(run.w));
    status = read_until_exit(run.w.report.get(), pid);
  }
};

TEST_CASE("a real waiter: 'ok PID', 'exit STATUS', then it waits for 'h' and writes no exit file") {
  EndedRun ended;
  Waiter& run = ended.run;
  pid_t pid = ended.pid;
  int status = ended.status;
  CHECK(pid > 1);
  CHECK(pid != run.w.waiter);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  // Reaped (the report came first), and waiting for our word.
  for (int i = 0; i < 1000 && ::kill(pid, 0) == 0; ++i) ::usleep(1000);
  CHECK(::kill(pid, 0) != 0);
  CHECK(::waitpid(run.w.waiter, nullptr, WNOHANG) == 0);
  REQUIRE(::write(run.w.report.get(), &sbx::waiter::kHeld, 1) == 1);
  CHECK(run.reap() == 0);
  CHECK(::access((ended.dir / "run.exit").c_str(), F_OK) != 0);
}

TEST_CASE("a real waiter whose sbxd goes before it holds the status writes it to the exit file") {
  EndedRun ended;
  ended.run.w.report.reset();  // sbxd died before its record was durable
  CHECK(ended.run.reap() == 0);
  CHECK(read_exit_status(ended.dir / "run.exit") == ended.status);
}

TEST_CASE("a real waiter: a program that cannot be exec'd is reported with its errno") {
  TempDir dir;
  Waiter run(dir, dir / "no-such-program", {"no-such-program"});
  REQUIRE(release_waiter(run.w));
  std::string text = read_report(run.w.report.get());
  auto r = parse_launch_report(text.substr(0, text.find('\n')));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == std::strerror(ENOENT));
  run.reap();
}

TEST_CASE("a real waiter that is never released starts nothing and exits 0") {
  TempDir dir;
  std::string marker = dir / "started";
  Waiter run(dir, "/bin/sh", {"sh", "-c", "touch " + marker});
  run.w.report.reset();  // sbxd gone before it recorded the run
  CHECK(run.reap() == 0);
  CHECK(::access(marker.c_str(), F_OK) != 0);
  CHECK(::access((dir / "run.exit").c_str(), F_OK) != 0);
}
