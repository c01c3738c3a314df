// sbx: the command-line client.

#include "cli/app.hpp"
#include "cli/args.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  // SIGPIPE keeps its default: `sbx logs -f x | head` ends when head does, as tail -f would.
  // Writes to the daemon's socket use MSG_NOSIGNAL and report an error instead.
  sbx::cli::Args args;
  int rc = sbx::cli::parse_command_line(argc, argv, args);
  if (rc >= 0) return rc;
  using sbx::cli::Command;
  switch (args.command) {
    case Command::start: return sbx::cli::run_start(args.start);
    case Command::ps: return sbx::cli::run_ps(args.ps);
    case Command::status: return sbx::cli::run_status(args.show);
    case Command::show: return sbx::cli::run_show(args.show);
    case Command::logs: return sbx::cli::run_logs(args.logs);
    case Command::wait: return sbx::cli::run_wait(args.wait);
    case Command::wait_log: return sbx::cli::run_wait_log(args.wait_log);
    case Command::wait_port: return sbx::cli::run_wait_port(args.wait_port);
    case Command::kill: return sbx::cli::run_kill(args.kill);
    case Command::rm: return sbx::cli::run_rm(args.rm);
    case Command::prune: return sbx::cli::run_prune();
    case Command::daemon_status: return sbx::cli::run_daemon_status(args.daemon);
    case Command::daemon_stop: return sbx::cli::run_daemon_stop(args.daemon);
    case Command::daemon_restart: return sbx::cli::run_daemon_restart(args.daemon);
    case Command::completion: return sbx::cli::run_completion(args.completion);
    case Command::none: break;
  }
  return sbx::cli::report_usage("give a command; see 'sbx --help'");
}
