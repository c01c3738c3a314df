#pragma once
// The daemon's file descriptor budget. sbxd holds two descriptors per live process (its
// waiter's pidfd and report pipe) and a few per client, so it runs with its soft
// RLIMIT_NOFILE raised to the hard limit; the programs it starts get the soft limit it
// was started with (programs built on select() break above 1024).

#include <string>
#include <string_view>

namespace sbx::daemon {

/// Raises the soft RLIMIT_NOFILE to the hard limit and remembers the one it replaced.
void raise_fd_limit();

/// The soft limit sbxd was started with, for its programs, as sbx-shim takes it on its
/// command line: a number, or "-" when it was not changed.
std::string program_fd_limit();

/// True when `newest` (a descriptor just opened: the lowest one free) leaves fewer than the
/// descriptors kept for clients, so that `ps` and `kill` are still served when starts
/// have used up the rest.
bool fd_headroom_gone(int newest);

/// True for the errors that mean "no descriptor left": EMFILE, ENFILE.
bool out_of_fds(int err);

/// The one-line refusal: "sbxd is out of file descriptors (...): it cannot `doing`; ...".
std::string out_of_fds_message(std::string_view doing);

}  // namespace sbx::daemon
