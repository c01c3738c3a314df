#pragma once
// The parsed command line: one plain struct per command. app.cpp fills them through
// CLI11; the cmd_*.cpp files run them. No CLI11 here, so the commands compile fast.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sbx::cli {

enum class Command { none, start, ps, status, show, logs, wait, wait_log, wait_port, kill, rm, prune, daemon_status, daemon_stop,
                     daemon_restart, completion };

struct StartArgs {
  std::string id;
  std::string cwd;
  std::vector<std::string> env;        ///< -e K=V
  std::vector<std::string> env_files;  ///< --env-file F
  std::string session;                 ///< empty: $SBX_SESSION, else "default"
  bool json = false;
  std::string timeout;                 ///< --timeout D: stop it once it has run D
  bool auto_cleanup = false;           ///< --rm
  std::string restart;                 ///< no | on-failure | always
  std::optional<int> max_restarts;
  std::string log_max;                 ///< --log-max SIZE per stream; empty: the default 64M
  std::vector<std::string> command;    ///< positional words
  bool argv_form = false;              ///< the words came after `--`
  std::optional<int> wait_port;        ///< --wait-port: return once it accepts connections
  std::string wait_http;               ///< --http PATH with --wait-port
  std::string wait_log;                ///< --wait-log PATTERN
  std::string wait_timeout;            ///< --wait-timeout D
};

struct WaitLogArgs {
  std::string id;
  std::string pattern;
  bool regex = false;
  std::string stream;   ///< empty: both
  std::string timeout;
  bool json = false;
};

struct WaitPortArgs {
  std::string id;
  int port = 0;
  std::string host;     ///< empty: 127.0.0.1 and ::1
  std::string http;     ///< empty: plain TCP
  std::string status;   ///< CODE or LO-HI; default 200-399
  std::string interval;
  std::string timeout;
};

struct PsArgs {
  std::string session;
  std::string status;
  bool quiet = false;
  bool json = false;
  bool no_start = false;  ///< hidden --no-start: print nothing when no daemon runs (completion)
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

struct RmArgs {
  std::vector<std::string> ids;
  bool force = false;
};

struct DaemonArgs {
  bool json = false;
};

struct CompletionArgs {
  std::string shell;  ///< bash | zsh | fish
};

struct Args {
  Command command = Command::none;
  StartArgs start;
  PsArgs ps;
  ShowArgs show;  ///< also status
  LogsArgs logs;
  WaitArgs wait;
  WaitLogArgs wait_log;
  WaitPortArgs wait_port;
  KillArgs kill;
  RmArgs rm;
  DaemonArgs daemon;
  CompletionArgs completion;
};

int run_start(const StartArgs& a);
int run_ps(const PsArgs& a);
int run_status(const ShowArgs& a);
int run_show(const ShowArgs& a);
int run_logs(const LogsArgs& a);
int run_wait(const WaitArgs& a);
int run_wait_log(const WaitLogArgs& a);
int run_wait_port(const WaitPortArgs& a);
int run_kill(const KillArgs& a);
int run_rm(const RmArgs& a);
int run_prune();
int run_daemon_status(const DaemonArgs& a);
int run_daemon_stop(const DaemonArgs& a);
int run_daemon_restart(const DaemonArgs& a);
int run_completion(const CompletionArgs& a);

}  // namespace sbx::cli
