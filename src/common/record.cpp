#include "common/record.hpp"

#include "common/signal_names.hpp"

namespace sbx {

const char* status_name(ProcStatus s) {
  switch (s) {
    case ProcStatus::starting:
      return "starting";
    case ProcStatus::running:
      return "running";
    case ProcStatus::completed:
      return "completed";
    case ProcStatus::failed:
      return "failed";
    case ProcStatus::killed:
      return "killed";
    case ProcStatus::error:
      return "error";
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

std::optional<std::vector<ProcStatus>> parse_status_filter(std::string_view word) {
  constexpr ProcStatus all[] = {ProcStatus::starting, ProcStatus::running, ProcStatus::completed,
                                ProcStatus::failed,   ProcStatus::killed,  ProcStatus::error};
  std::vector<ProcStatus> out;
  for (ProcStatus st : all) {
    if (word == status_name(st) || (word == "live" && !is_ended(st)) ||
        (word == "ended" && is_ended(st))) {
      out.push_back(st);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
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
