#pragma once
// The end of a waiter: who keeps the program's status (shim/protocol.hpp, kHeld).

#include <stddef.h>

namespace sbx::waiter {

/// write(2) until all of it is written; false with errno.
bool write_all(int fd, const char* p, size_t n);

/// Waits for sbxd's word that its record holds `status` (kHeld); without it (sbxd gone),
/// writes the status to `exit_file`, tried again every second while the disk is full: the
/// waiter is then the only one that knows it.
void hand_over_status(const char* exit_file, int status);

}  // namespace sbx::waiter
