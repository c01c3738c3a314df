#include "doctest.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include "common/atomic_file.hpp"
#include "common/record.hpp"
#include "daemon/run/cgroup.hpp"
#include "daemon/run/cgroup_limits.hpp"
#include "temp_dir.hpp"

using namespace sbx::daemon;

namespace {

void put(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

std::string got(const std::string& path) {
  auto text = sbx::read_file(path);
  return text ? *text : "(none)";
}

}  // namespace

TEST_CASE("the cgroup2 mount is found in mountinfo, beside v1 hierarchies") {
  std::string hybrid =
      "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
      "33 25 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
      "41 33 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
      "42 33 0:39 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  auto m = find_cgroup2_mount(hybrid);
  REQUIRE(m);
  CHECK(m->point == "/sys/fs/cgroup/unified");
  CHECK(m->root == "/");
  CHECK_FALSE(find_cgroup2_mount("42 33 0:39 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n"));
  auto spaced = find_cgroup2_mount("1 2 0:3 /a\\040b /mnt/c\\040g rw - cgroup2 none rw\n");
  REQUIRE(spaced);
  CHECK(spaced->point == "/mnt/c g");
  CHECK(spaced->root == "/a b");
}

TEST_CASE("a process's cgroup2 path and its directory under the mount") {
  CHECK(unified_cgroup_of("9:name=systemd:/\n4:memory:/x\n0::/user.slice/sbxd.service\n") ==
        "/user.slice/sbxd.service");
  CHECK_FALSE(unified_cgroup_of("4:memory:/x\n"));
  Cgroup2Mount root{"/sys/fs/cgroup", "/"};
  CHECK(cgroup_dir(root, "/") == "/sys/fs/cgroup");
  CHECK(cgroup_dir(root, "/a/b") == "/sys/fs/cgroup/a/b");
  Cgroup2Mount bound{"/mnt/cg", "/a"};  // a bind mount of a subtree
  CHECK(cgroup_dir(bound, "/a/b") == "/mnt/cg/b");
  CHECK(cgroup_dir(bound, "/a") == "/mnt/cg");
  CHECK_FALSE(cgroup_dir(bound, "/ab"));
}

TEST_CASE("cgroup.events tells whether a process is left") {
  CHECK(events_say_populated("populated 1\nfrozen 0\n"));
  CHECK_FALSE(events_say_populated("populated 0\nfrozen 0\n"));
  CHECK_FALSE(events_say_populated(""));
}

TEST_CASE("limits are written to the cgroup's files") {
  TempDir d;
  for (const char* f : {"memory.max", "pids.max", "cpu.max"}) put(d / f, "max\n");
  CgroupLimits l{64 << 20, 10, 150};
  REQUIRE(write_limits(d.path, l));
  CHECK(got(d / "memory.max") == "67108864");
  CHECK(got(d / "pids.max") == "10");
  CHECK(got(d / "cpu.max") == "150000 100000");
  CHECK(cpu_max_value(1) == "1000 100000");

  TempDir only;
  put(only / "pids.max", "max\n");
  REQUIRE(write_limits(only.path, CgroupLimits{std::nullopt, 3, std::nullopt}));
  CHECK(got(only / "pids.max") == "3");
  auto missing = write_limits(only.path, CgroupLimits{1 << 20, std::nullopt, std::nullopt});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("--memory-max: cannot write") == 0);
}

TEST_CASE("a limit whose controller the subtree lacks is refused, saying why") {
  TempDir parent;
  std::string subtree = parent / "sbx";
  std::filesystem::create_directory(subtree);
  put(parent / "cgroup.controllers", "hugetlb\n");
  put(subtree + "/cgroup.controllers", "");
  put(subtree + "/cgroup.subtree_control", "");
  CgroupLimits none;
  CHECK(check_controllers(subtree, none));
  auto st = check_controllers(subtree, CgroupLimits{1 << 20, std::nullopt, std::nullopt});
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("--memory-max needs the memory controller") == 0);
  CHECK(st.error().message.find("'hugetlb'") != std::string::npos);

  put(parent / "cgroup.controllers", "cpu memory pids\n");  // offered, not enabled below
  st = check_controllers(subtree, CgroupLimits{std::nullopt, 5, std::nullopt});
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("enable it in " + parent.path + "/cgroup.subtree_control") !=
        std::string::npos);

  put(subtree + "/cgroup.subtree_control", "memory pids\n");
  CHECK(check_controllers(subtree, CgroupLimits{1 << 20, 5, std::nullopt}));
  CHECK_FALSE(check_controllers(subtree, CgroupLimits{std::nullopt, std::nullopt, 50}));
}

TEST_CASE("a record keeps its cgroup and limits; its tree is named after them") {
  sbx::ProcessRecord r;
  r.id = "web";
  r.argv = {"sleep", "1"};
  CHECK(std::string(r.tree()) == "token");
  r.cgroup = "/sys/fs/cgroup/sbx-0-abc/web.1";
  r.memory_max = 1 << 30;
  r.pids_max = 64;
  r.cpu_max = 250;
  std::string text = sbx::record_to_toml(r);
  CHECK(text.find("tree = \"cgroup\"") != std::string::npos);
  auto back = sbx::record_from_toml(text);
  REQUIRE(back);
  CHECK(back->cgroup == r.cgroup);
  CHECK(back->memory_max == r.memory_max);
  CHECK(back->pids_max == 64);
  CHECK(back->cpu_max == 250);
  CHECK(std::string(back->tree()) == "cgroup");
}
