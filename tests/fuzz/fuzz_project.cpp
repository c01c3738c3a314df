// Project files from untrusted text: parse_project_toml (sbx.toml) and parse_procfile on
// the same input. Properties: no crash/UB; an error is a usage error naming FILE:LINE; what
// parses has processes with valid ids and a command, dependencies that name processes of
// the file, and a start order holding each process once, after what it depends on.
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "check.hpp"
#include "common/ids.hpp"
#include "common/project.hpp"

using namespace sbx;

namespace {

void check_project(const Result<Project>& p, std::string_view file) {
  if (!p) {
    CHECK(p.error().code == Errc::usage);
    const std::string& m = p.error().message;
    CHECK(m.starts_with(std::string(file) + ":"));
    CHECK(m.size() > file.size() + 1 &&
          std::isdigit(static_cast<unsigned char>(m[file.size() + 1])));
    return;
  }
  CHECK(!p->processes.empty());
  CHECK(!p->name.empty());
  for (const auto& d : p->processes) {
    CHECK(is_valid_id(d.name));
    CHECK(d.argv.empty() != d.shell_line.empty());
    CHECK(!d.cwd.empty() && d.cwd[0] == '/');
    for (const auto& dep : d.depends_on) CHECK(p->find(dep.name) != nullptr);
  }
  auto order = start_order(*p, {});
  CHECK(order.ok());
  CHECK(order->size() == p->processes.size());
  std::set<std::string> placed;
  for (const auto* d : *order) {
    for (const auto& dep : d->depends_on) CHECK(placed.count(dep.name) == 1);
    CHECK(placed.insert(d->name).second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_project(parse_project_toml(text, "sbx.toml", "/srv/shop"), "sbx.toml");
  check_project(parse_procfile(text, "Procfile", "/srv/shop"), "Procfile");
  return 0;
}
