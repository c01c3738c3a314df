#include "doctest.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "common/defaults.hpp"
#include "common/project.hpp"
#include "daemon/run/run_as.hpp"
#include "proto/requests_start.hpp"
#include "shim/protocol.hpp"

using namespace sbx;
using namespace sbx::daemon;

// root (0:0) and nobody are in every passwd database the tests run on.

TEST_CASE("--user: the spelling is USER or USER:GROUP") {
  for (const char* ok : {"nobody", "nobody:nogroup", "65534", "65534:65534", "svc-x.y_z", "a$"})
    CHECK_MESSAGE(check_user(ok), ok);
  for (const char* bad : {"", ":", ":g", "u:", "u:g:h", "a b", "u\t", "x\x7f"})
    CHECK_MESSAGE(check_user(bad).error().code == Errc::usage, bad);
}

TEST_CASE("--user: resolved by a root daemon, names and numbers") {
  auto root = resolve_run_as("root", 0, 0);
  REQUIRE(root);
  REQUIRE(*root);
  CHECK((*root)->uid == 0);
  CHECK((*root)->gid == 0);
  CHECK((*root)->name == "root");
  CHECK(std::count((*root)->groups.begin(), (*root)->groups.end(), 0) == 1);

  auto nobody = resolve_run_as("nobody", 0, 0);
  REQUIRE(nobody);
  REQUIRE(*nobody);
  uid_t nobody_uid = (*nobody)->uid;
  CHECK(nobody_uid != 0);
  CHECK((*nobody)->name == "nobody");
  // Its own group is among its groups (initgroups).
  CHECK(std::count((*nobody)->groups.begin(), (*nobody)->groups.end(), (*nobody)->gid) == 1);

  auto by_number = resolve_run_as(std::to_string(nobody_uid), 0, 0);
  REQUIRE(by_number);
  CHECK((*by_number)->name == "nobody");
  auto with_group = resolve_run_as("nobody:0", 0, 0);
  REQUIRE(with_group);
  CHECK((*with_group)->gid == 0);
  CHECK((*with_group)->uid == nobody_uid);

  // A uid without an entry: with its group only.
  auto bare = resolve_run_as("4000000123:4000000124", 0, 0);
  REQUIRE(bare);
  CHECK((*bare)->uid == 4000000123u);
  CHECK((*bare)->groups == std::vector<gid_t>{4000000124u});
  CHECK((*bare)->name.empty());
  CHECK(resolve_run_as("4000000123", 0, 0).error().message.find(":GROUP") != std::string::npos);

  CHECK(resolve_run_as("sbx-no-such-user", 0, 0).error().message ==
        "no user 'sbx-no-such-user' on this system: see 'getent passwd'");
  CHECK(resolve_run_as("root:sbx-no-such-group", 0, 0).error().message.find("no group") == 0);
  auto none = resolve_run_as("", 0, 0);
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("--user: a daemon that is not root runs processes only as itself") {
  auto nobody = resolve_run_as("nobody", 0, 0);
  REQUIRE(nobody);
  uid_t uid = (*nobody)->uid;
  gid_t gid = (*nobody)->gid;
  auto self = resolve_run_as("nobody", uid, gid);
  REQUIRE(self);
  CHECK_FALSE(*self);  // nothing to change
  auto root = resolve_run_as("root", uid, gid);
  REQUIRE_FALSE(root);
  CHECK(root.error().code == Errc::failed);
  CHECK(root.error().message.find("not as root") != std::string::npos);
  CHECK(root.error().message.find('\n') == std::string::npos);
  CHECK_FALSE(resolve_run_as("nobody:0", uid, gid));  // another group is another identity
}

TEST_CASE("--user: what the waiter is told, as it reads it") {
  CHECK(waiter_user_arg(std::nullopt) == waiter::kSameUser);
  RunAs as;
  as.uid = 70;
  as.gid = 71;
  as.groups = {71, 5, 4000000000u};
  std::string arg = waiter_user_arg(as);
  CHECK(arg == "70:71:71,5,4000000000");
  unsigned uid = 0, gid = 0, groups[8] = {};
  std::size_t n = 0;
  REQUIRE(waiter::user_group_count(arg.c_str()) == 3);
  REQUIRE(waiter::parse_user(arg.c_str(), uid, gid, groups, 8, n));
  CHECK(uid == 70);
  CHECK(gid == 71);
  CHECK(n == 3);
  CHECK(groups[2] == 4000000000u);
  CHECK(waiter::parse_user("1:2:", uid, gid, groups, 8, n));
  CHECK(n == 0);
  CHECK(waiter::user_group_count("1:2:") == 0);
  CHECK_FALSE(waiter::parse_user("1:2:3", uid, gid, groups, 0, n));  // more than it has room for
  for (const char* bad :
       {"", "-", "1", "1:2", "x:2:", "1:x:", "1:2:3,", "1:2:,3", "1:2:3x", "4294967295:0:"})
    CHECK_FALSE_MESSAGE(waiter::parse_user(bad, uid, gid, groups, 8, n), bad);
}

TEST_CASE("--user: HOME, USER and LOGNAME are the user's, unless the run set them") {
  RunAs as;
  as.name = "pg";
  as.home = "/var/lib/pg";
  auto env = env_for({"PATH=/bin", "HOME=/root", "USER=root", "LOGNAME=root", "X=1"}, as, {"USER"});
  std::sort(env.begin(), env.end());
  CHECK(env == std::vector<std::string>{"HOME=/var/lib/pg", "LOGNAME=pg", "PATH=/bin", "USER=root",
                                        "X=1"});
  RunAs bare;  // a uid without an entry: nothing to say
  CHECK(env_for({"HOME=/root"}, bare, {}) == std::vector<std::string>{"HOME=/root"});
}

TEST_CASE("--user travels in the start request and in sbx.toml") {
  proto::StartRequest s;
  s.argv = {"id"};
  s.cwd = "/";
  s.user = "nobody:nogroup";
  auto back = proto::StartRequest::from_json(s.to_json());
  REQUIRE(back);
  CHECK(back->user == "nobody:nogroup");
  s.user.clear();
  CHECK_FALSE(s.to_json().contains("user"));
  auto o = s.to_json();
  o["user"] = "a b";
  CHECK(proto::StartRequest::from_json(o).error().code == Errc::usage);
  o["user"] = 7;
  CHECK(proto::StartRequest::from_json(o).error().code == Errc::protocol);

  auto p = parse_project_toml("[process.db]\ncommand = \"postgres\"\nuser = \"postgres\"\n",
                              "sbx.toml", "/srv");
  REQUIRE(p);
  CHECK(p->processes[0].user == "postgres");
  auto bad = parse_project_toml("[process.db]\ncommand = \"postgres\"\nuser = \"a:b:c\"\n",
                                "sbx.toml", "/srv");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("sbx.toml:3: process.db.user: bad user") == 0);
}
