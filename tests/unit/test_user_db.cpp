#include "doctest.hpp"

#include <string>
#include <vector>

#include "daemon/run/user_db.hpp"

using namespace sbx::daemon;

TEST_CASE("user_db: a passwd line") {
  auto e = parse_passwd_line(
      "postgres:x:105:111:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash");
  REQUIRE(e);
  CHECK(e->name == "postgres");
  CHECK(e->uid == 105u);
  CHECK(e->gid == 111u);
  CHECK(e->home == "/var/lib/postgresql");
  auto no_home = parse_passwd_line("svc:x:4000000000:4000000001:::");
  REQUIRE(no_home);
  CHECK(no_home->uid == 4000000000u);
  CHECK(no_home->home.empty());
  for (const char* bad : {"", "root", "root:x:0:0:root:/root", "root:x:0:0:root:/root:/bin/sh:more",
                          ":x:0:0::/:/bin/sh", "root:x:-1:0::/:/bin/sh", "root:x:0x0:0::/:/bin/sh",
                          "root:x::0::/:/bin/sh", "root:x:0:99999999999::/:/bin/sh"})
    CHECK_MESSAGE(!parse_passwd_line(bad), bad);
}

TEST_CASE("user_db: a group line") {
  auto g = parse_group_line("docker:x:998:alice,bob");
  REQUIRE(g);
  CHECK(g->name == "docker");
  CHECK(g->gid == 998u);
  CHECK(parse_group_line("nogroup:x:65534:"));
  for (const char* bad : {"", "docker:x:998", "docker:x:998:a:b", ":x:1:", "g:x:one:"})
    CHECK_MESSAGE(!parse_group_line(bad), bad);
}

TEST_CASE("user_db: an initgroups line") {
  auto some = parse_initgroups_line("alice                27 998 100");
  REQUIRE(some);
  CHECK(*some == std::vector<gid_t>{27, 998, 100});
  auto none = parse_initgroups_line("nobody               ");
  REQUIRE(none);
  CHECK(none->empty());
  CHECK_FALSE(parse_initgroups_line(""));
  CHECK_FALSE(parse_initgroups_line("alice 27 staff"));
}

// root and nobody are in every passwd database the tests run on; getent is Debian's.
TEST_CASE("user_db: lookups through getent") {
  auto root = lookup_user("root");
  REQUIRE(root);
  REQUIRE(*root);
  CHECK((*root)->uid == 0u);
  CHECK((*root)->gid == 0u);
  auto by_uid = lookup_user("0");
  REQUIRE(by_uid);
  REQUIRE(*by_uid);
  CHECK((*by_uid)->name == "root");
  auto missing = lookup_user("sbx-no-such-user");
  REQUIRE(missing);
  CHECK_FALSE(*missing);
  auto option_like = lookup_user("--help");  // a key, not an option of getent
  REQUIRE(option_like);
  CHECK_FALSE(*option_like);
  auto group = lookup_group("root");
  REQUIRE(group);
  REQUIRE(*group);
  CHECK((*group)->gid == 0u);
  auto no_group = lookup_group("sbx-no-such-group");
  REQUIRE(no_group);
  CHECK_FALSE(*no_group);
  auto groups = lookup_member_groups("sbx-no-such-user");
  REQUIRE(groups);
  CHECK(groups->empty());
}
