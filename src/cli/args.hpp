#pragma once
// The parsed command line: one plain struct per command. app.cpp fills them through
// CLI11; the cmd_*.cpp files run them. No CLI11 here, so the commands compile fast.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sbx::cli {

enum class Command { none, start, ps, status, show, logs, wait, kill, daemon_status, daemon_stop };

struct StartArgs {
  std::string id;
  std::string cwd;
  std::vector<std::string> env;        ///< -e K=V
  std::vector<std::string> env_files;  ///< --env-file F
  std::string session;                 ///< empty: $SBX_SESSION, else "default"
  bool json = false;
  std::vector<std::string> command;    ///< positional words
  bool argv_form = false;              ///< the words came after `--`
};

struct PsArgs {
  std::string session;
  std::string status;
  bool quiet = false;
  bool json = false;
};

struct ShowArgs {
  std::string id;
  bool json = false;
};

struct LogsArgs {
  std::string id;
  bool only_stdout = false;
  bool only_stderr = false;
  std::optional<std::int64_t> tail;
  bool follow = false;
  bool json = false;
};

struct WaitArgs {
  std::string id;
  std::string timeout;  ///< empty: wait forever
};

struct KillArgs {
  std::vector<std::string> ids;
  std::string signal;   ///< empty: stop with TERM
  std::string grace;    ///< empty: default 10s
  bool no_wait = false;
  bool all = false;
  std::string session;
};

struct DaemonArgs {
  bool json = false;
};

struct Args {
  Command command = Command::none;
  StartArgs start;
  PsArgs ps;
  ShowArgs show;  ///< also status
  LogsArgs logs;
  WaitArgs wait;
  KillArgs kill;
  DaemonArgs daemon;
};

int run_start(const StartArgs& a);
int run_ps(const PsArgs& a);
int run_status(const ShowArgs& a);
int run_show(const ShowArgs& a);
int run_logs(const LogsArgs& a);
int run_wait(const WaitArgs& a);
int run_kill(const KillArgs& a);
int run_daemon_status(const DaemonArgs& a);
int run_daemon_stop(const DaemonArgs& a);

}  // namespace sbx::cli
