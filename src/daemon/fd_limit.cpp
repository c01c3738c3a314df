#include "daemon/fd_limit.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <cerrno>

#include "shim/protocol.hpp"

namespace sbx::daemon {

namespace {

/// Descriptors a start leaves free for clients: a few followers, a ps, a kill.
constexpr rlim_t kClientHeadroom = 16;

bool g_raised = false;
rlim_t g_program_soft = 0;

rlim_t soft_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return RLIM_INFINITY;
  return rl.rlim_cur;
}

}  // namespace

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  g_raised = true;
  g_program_soft = was;
  spdlog::info("descriptor limit raised from {} to {}; processes get {}", was, rl.rlim_max, was);
}

std::string program_fd_limit() {
  return g_raised ? std::to_string(g_program_soft) : waiter::kKeepFdLimit;
}

bool fd_headroom_gone(int newest) {
  rlim_t limit = soft_limit();
  return limit != RLIM_INFINITY && newest >= 0 &&
         static_cast<rlim_t>(newest) + kClientHeadroom >= limit;
}

bool out_of_fds(int err) { return err == EMFILE || err == ENFILE; }

std::string out_of_fds_message(std::string_view doing) {
  return "sbxd is out of file descriptors (its limit is " + std::to_string(soft_limit()) +
         "): it cannot " + std::string(doing) +
         "; end some processes or followers, or start sbxd under a higher 'ulimit -n'";
}

}  // namespace sbx::daemon
