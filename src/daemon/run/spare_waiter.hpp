#pragma once
// A waiter started ahead of the next run (`sbx-shim --spare`, shim/protocol.hpp): a start
// hands it its run over its socket instead of waiting for an exec of sbx-shim, which was
// about half of what sbxd added to a start. One at a time; the next is started once a
// start has its answer, and none is kept after kSpareIdle without a start.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/fd.hpp"
#include "daemon/run/file_pool.hpp"
#include "daemon/run/spawn.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

inline constexpr Millis kSpareIdle{60'000};

class SpareWaiter {
 public:
  /// Its spares make the files of `pool` (file_pool.hpp).
  SpareWaiter(std::string waiter_path, Timers& timers, FilePool& pool);
  ~SpareWaiter();
  SpareWaiter(const SpareWaiter&) = delete;
  SpareWaiter& operator=(const SpareWaiter&) = delete;

  /// The spare, as the waiter of a run: `args` its command line (shim/protocol.hpp),
  /// `envp` its environment, `fds` its descriptors 0, 1, 2 and 4 (waiter::kSpecFds), sent
  /// to it at once; it starts the program on release_waiter's "g", once the run is recorded
  /// with the spare's pid. nullopt if none is held, it is gone, or the run does not fit a
  /// spec (waiter::kSpecMax): the caller starts a waiter of its own then.
  std::optional<SpawnedWaiter> take(const std::vector<std::string>& args,
                                    const std::vector<std::string>& envp,
                                    const std::vector<int>& fds);
  /// Starts a spare unless one is held (posix_spawn: the loop waits for its exec to begin).
  void refill();

 private:
  /// Closes its socket: the spare exits, and the SIGCHLD sweep reaps it.
  void drop();

  std::string waiter_path_;
  Timers& timers_;
  FilePool& pool_;
  pid_t pid_ = -1;
  std::optional<std::uint64_t> start_ticks_;
  std::string files_dir_;  ///< where it makes its pool files
  UniqueFd socket_;
  Timers::Timer idle_;
};

/// Sends a spare its run, without the "g": false unless all of it went.
bool send_spec(int socket, const std::string& spec, const std::vector<int>& fds);

}  // namespace sbx::daemon
