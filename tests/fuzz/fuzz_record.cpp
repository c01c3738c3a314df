// Records from untrusted text: record_from_toml on the input (a corrupt or hand-edited
// STATE/processes/ID.toml) and record_from_json on parse_json of it (a reply to the CLI).
// Properties: no crash/UB; what parses survives record_to_toml -> record_from_toml (and
// record_to_json -> record_from_json) with the same id, status and the plain fields.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "check.hpp"
#include "common/record.hpp"
#include "common/record_json.hpp"
#include "proto/message.hpp"

using namespace sbx;

namespace {

void same_core(const ProcessRecord& a, const ProcessRecord& b) {
  CHECK(a.id == b.id);
  CHECK(a.status == b.status);
  CHECK(a.command == b.command);
  CHECK(a.argv == b.argv);
  CHECK(a.cwd == b.cwd);
  CHECK(a.session == b.session);
  CHECK(a.pid == b.pid);
  CHECK(a.exit_code == b.exit_code);
  CHECK(a.signal == b.signal);
  CHECK(a.restart == b.restart);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto r = record_from_toml(text)) {
    std::string again = record_to_toml(*r);
    auto r2 = record_from_toml(again);
    if (!r2) {
      __builtin_fprintf(stderr, "re-read failed: %s\n--- written:\n%s\n",
                        r2.error().message.c_str(), again.c_str());
    }
    CHECK(r2.ok());
    same_core(*r, *r2);
    CHECK(r->env == r2->env);
    CHECK(r->waiter_pid == r2->waiter_pid);
    CHECK(r->timeout_ms == r2->timeout_ms);
    CHECK(r->auto_cleanup == r2->auto_cleanup);
    CHECK(r->restarts == r2->restarts);
    CHECK(r->max_restarts == r2->max_restarts);
    (void)wait_exit_code(*r);
  }

  if (auto v = proto::parse_json(text)) {
    if (auto r = record_from_json(*v)) {
      auto r2 = record_from_json(record_to_json(*r));
      CHECK(r2.ok());
      same_core(*r, *r2);
      (void)wait_exit_code(*r);
    }
  }
  return 0;
}
