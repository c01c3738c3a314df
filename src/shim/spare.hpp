#pragma once
// A spare waiter's wait for its run (shim/protocol.hpp, kSpareArg).

namespace sbx::waiter {

struct Spec {
  int argc = 0;
  char** argv = nullptr;  ///< argv[argc] is null
  char** envp = nullptr;  ///< null-terminated
};

/// Makes the spare's files of sbxd's pool in the folder `pool` (protocol.hpp), unless its
/// run is there already: that start has gone past needing them.
void make_pool_files(const char* pool);

/// Reads the spec of its run on the report socket and puts the descriptors it carries on
/// fds 0, 1, 2 and 4. False if sbxd closed the socket first or sent less than a whole spec:
/// the spare then starts nothing. What it returns lives as long as the waiter.
bool receive_spec(Spec& out);

}  // namespace sbx::waiter
