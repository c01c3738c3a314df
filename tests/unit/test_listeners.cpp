// Listening sockets from /proc/net tables, and which probed hosts reach a bound address.

#include "doctest.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/fd.hpp"
#include "common/listeners.hpp"
#include "common/proc.hpp"
#include "common/sock_diag.hpp"

using namespace sbx;

namespace {

constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "4242 1 "
    "0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 "
    "1\n"
    // an established connection is no listener
    "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 99 "
    "1\n"
    "   3: garbage\n"
    "   4: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0";

constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000001000000:1435 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 777 1\n"
    "   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 778 1\n"
    "   2: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 779 1\n";

constexpr const char* kUdp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode ref\n"
    "  10: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 55 "
    "2\n"
    // connected to a peer: no listener; port 0: not bound
    "  11: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000  1000        0 56 "
    "2\n"
    "  12: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 57 "
    "2\n";

}  // namespace

TEST_CASE("tcp table: LISTEN sockets only, addresses in the kernel's word order") {
  auto l = parse_net_table(kTcp, "tcp", false);
  REQUIRE(l.size() == 2);
  CHECK(l[0].proto == "tcp");
  CHECK(l[0].address == "127.0.0.1");
  CHECK(l[0].port == 8080);
  CHECK(l[0].inode == 4242);
  CHECK(l[1].address == "0.0.0.0");
  CHECK(l[1].port == 22);
  CHECK(l[1].inode == 17);
}

TEST_CASE("tcp6 table: loopback, wildcard, v4-mapped") {
  auto l = parse_net_table(kTcp6, "tcp", true);
  REQUIRE(l.size() == 3);
  CHECK(l[0].address == "::1");
  CHECK(l[0].port == 5173);
  CHECK(l[1].address == "::");
  CHECK(l[1].port == 80);
  CHECK(l[2].address == "::ffff:127.0.0.1");
  CHECK(l[2].inode == 779);
}

TEST_CASE("udp table: bound and unconnected only") {
  auto l = parse_net_table(kUdp, "udp", false);
  REQUIRE(l.size() == 1);
  CHECK(l[0].proto == "udp");
  CHECK(l[0].port == 5353);
  CHECK(l[0].inode == 55);
  CHECK(parse_net_table("", "udp", false).empty());
}

TEST_CASE("which probed hosts reach a bound address") {
  CHECK(address_covers("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(address_covers("127.0.0.1", "::1"));
  CHECK(address_covers("0.0.0.0", "127.0.0.1"));
  CHECK_FALSE(address_covers("0.0.0.0", "::1"));
  CHECK(address_covers("::", "::1"));
  CHECK(address_covers("::", "127.0.0.1"));  // dual-stack
  CHECK(address_covers("::1", "0:0:0:0:0:0:0:1"));
  CHECK_FALSE(address_covers("::1", "127.0.0.1"));
  CHECK(address_covers("::ffff:127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(address_covers("10.0.0.1", "127.0.0.1"));
  CHECK_FALSE(address_covers("127.0.0.1", "localhost"));
}

TEST_CASE("a socket this process listens on is found among its own descriptors") {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(s);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  int port = ntohs(a.sin_port);
  auto mine = [&] {
    ListenerScan scan(false);
    auto held = scan.of({::getpid()});
    return std::any_of(held.begin(), held.end(), [&](const HeldListener& h) {
      return h.listener.port == port && h.pid == ::getpid() && h.listener.address == "127.0.0.1";
    });
  };
  CHECK_FALSE(mine());  // bound, not listening yet
  REQUIRE(::listen(s.get(), 1) == 0);
  CHECK(mine());
  auto table = read_listeners(0, false);
  auto it =
      std::find_if(table.begin(), table.end(), [&](const Listener& l) { return l.port == port; });
  REQUIRE(it != table.end());
  CHECK(find_socket_holder({it->inode}) == ::getpid());
  // sock_diag and /proc/net agree on it
  auto slow = read_proc_listeners(0, false);
  auto same = [&](const Listener& l) {
    return l.port == port && l.inode == it->inode && l.address == "127.0.0.1" && l.proto == "tcp";
  };
  CHECK(std::any_of(slow.begin(), slow.end(), same));
  if (auto fast = diag_listeners(false)) CHECK(std::any_of(fast->begin(), fast->end(), same));
}

TEST_CASE("a bound UDP socket is seen by sock_diag and /proc/net alike") {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(s);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  int port = ntohs(a.sin_port);
  auto has = [&](const std::vector<Listener>& t) {
    return std::any_of(t.begin(), t.end(),
                       [&](const Listener& l) { return l.port == port && l.proto == "udp"; });
  };
  CHECK(has(read_proc_listeners(0, true)));
  CHECK_FALSE(has(read_proc_listeners(0, false)));
  if (auto fast = diag_listeners(true)) CHECK(has(*fast));
  CHECK(has(read_listeners(0, true)));
}

TEST_CASE("descendants: a child and its child, found through the children files") {
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // forks a grandchild, says so, and waits to be killed
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::pause();
      ::_exit(0);
    }
    (void)!::write(ready[1], &grandchild, sizeof grandchild);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  pid_t grandchild = 0;
  REQUIRE(::read(ready[0], &grandchild, sizeof grandchild) == sizeof grandchild);
  ::close(ready[0]);
  auto all = descendants(::getpid());
  CHECK(all.front() == ::getpid());
  CHECK(std::find(all.begin(), all.end(), child) != all.end());
  CHECK(std::find(all.begin(), all.end(), grandchild) != all.end());
  CHECK(descendants(0).empty());
  ::kill(grandchild, SIGKILL);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}
