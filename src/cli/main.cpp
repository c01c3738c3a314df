// sbx: the command-line client.

#include <unistd.h>

#include <cstdio>

#include "cli/app.hpp"

int main(int argc, char** argv) {
  // SIGPIPE keeps its default: `sbx logs -f x | head` ends when head does, as tail -f would.
  // Writes to the daemon's socket use MSG_NOSIGNAL and report an error instead.
  int rc = sbx::cli::run_command_line(argc, argv);
  // Nothing to tear down that the kernel does not: flush and go, skipping destructors.
  std::fflush(nullptr);
  ::_exit(rc);
}
