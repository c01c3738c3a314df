#include "common/record.hpp"

#include "common/signal_names.hpp"

namespace sbx {

const char* status_name(ProcStatus s) {
  switch (s) {
    case ProcStatus::starting: return "starting";
    case ProcStatus::running: return "running";
    case ProcStatus::completed: return "completed";
    case ProcStatus::failed: return "failed";
    case ProcStatus::killed: return "killed";
    case ProcStatus::error: return "error";
  }
  return "error";
}

std::optional<ProcStatus> parse_status(std::string_view s) {
  for (ProcStatus st : {ProcStatus::starting, ProcStatus::running, ProcStatus::completed,
                        ProcStatus::failed, ProcStatus::killed, ProcStatus::error}) {
    if (s == status_name(st)) return st;
  }
  return std::nullopt;
}

bool is_ended(ProcStatus s) {
  return s == ProcStatus::completed || s == ProcStatus::failed || s == ProcStatus::killed ||
         s == ProcStatus::error;
}

int wait_exit_code(const ProcessRecord& r) {
  if (r.status == ProcStatus::error) return 127;
  if (r.exit_code) return *r.exit_code;
  if (r.signal) {
    for (int n = 1; n < 65; ++n) {
      if (signal_name(n) == *r.signal) return 128 + n;
    }
  }
  return 1;
}

}  // namespace sbx
