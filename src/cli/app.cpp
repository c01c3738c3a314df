// The command-line definition: every command, option and help text, in one place.

#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <cstdio>
#include <cstring>

#include "cli/exit_codes.hpp"
#include "sbx_config.h"

namespace sbx::cli {
namespace {

CLI::App* add_command(CLI::App& app, Args& args, Command cmd, const char* name, const char* help,
                      const char* example) {
  auto* sub = app.add_subcommand(name, help);
  sub->footer(std::string("Example:\n  ") + example);
  sub->callback([&args, cmd] { args.command = cmd; });
  return sub;
}

}  // namespace

bool build_app(CLI::App& app, Args& a, std::string_view only) {
  bool any = false;
  auto want = [only, &any](std::string_view name) {
    bool yes = only.empty() || only == name;
    any = any || yes;
    return yes;
  };
  app.name("sbx");
  app.description("sbx: run commands in the background, watch them, wait on them, stop them");
  app.require_subcommand(1);
  app.set_version_flag("--version", "sbx " SBX_VERSION);
  app.footer(
      "Example:\n"
      "  sbx start --id web -- python3 -m http.server 8000\n"
      "  sbx wait-port web 8000 --timeout 30s && sbx logs web\n"
      "  sbx kill web\n\n"
      "Exit codes: 0 done, 1 failed, 2 usage, 3 no such process, 124 a wait timed out,\n"
      "125 a wait lost the daemon and no daemon answered again within 10s (waits ride\n"
      "through a daemon restart or crash); `sbx wait` exits with the process's own code\n"
      "(128+N for signal N).\n"
      "Run 'sbx COMMAND --help' for a command's options; man sbx for the whole story.");

  if (want("start")) {
    auto* start = add_command(app, a, Command::start, "start", "Start a command in the background and print its id",
                              "sbx start [OPTIONS] -- CMD [ARG...]    (argv, no shell)\n  sbx start [OPTIONS] 'SHELL LINE'       (one argument: sh -c)\n  sbx start --id web -- python3 -m http.server 8000\n  sbx start --id build 'make -j4 2>&1 | tee build.txt'");
    start->add_option("--id", a.start.id, "a custom id: letters, digits, '.', '_', '-' (max 64)")->type_name("NAME");
    start->add_option("--cwd", a.start.cwd, "working directory (default: the current one)")->type_name("DIR");
    start->add_option("-e,--env", a.start.env, "set NAME=VALUE in its environment (repeatable)")->allow_extra_args(false)->type_name("NAME=VALUE");
    start->add_option("--env-file", a.start.env_files, "read NAME=VALUE lines from a file (repeatable)")->allow_extra_args(false)->type_name("FILE");
    start->add_option("--session", a.start.session, "tag it with a session (default: $SBX_SESSION, else 'default')")->type_name("SESSION");
    start->add_flag("--json", a.start.json, "print the record as JSON instead of the id");
    start->add_option("--timeout", a.start.timeout, "stop it (TERM, KILL after 10s) once it has run this long")->type_name("DURATION");
    start->add_flag("--rm", a.start.auto_cleanup, "remove its record and logs once it ended and was waited for");
    start->add_option("--restart", a.start.restart, "restart policy: no, on-failure, always (back-off 100ms..30s)")->type_name("POLICY");
    start->add_option("--max-restarts", a.start.max_restarts, "give up after N restarts (default: no limit)")->type_name("N");
    start->add_option("--log-max", a.start.log_max, "cap each of its logs, keeping the newest output (default 64M; 0: no cap)")->type_name("SIZE");
    start->add_option("--wait-port", a.start.wait_port, "return only once this port accepts connections")->type_name("PORT");
    start->add_option("--http", a.start.wait_http, "with --wait-port: once GET PATH answers 200-399")->type_name("PATH");
    start->add_option("--wait-log", a.start.wait_log, "return only once a line of output contains this text")->type_name("PATTERN");
    start->add_option("--wait-timeout", a.start.wait_timeout, "give up waiting after this long (exit 124)")->type_name("DURATION");
    start->prefix_command();
  }

  if (want("ps")) {
    auto* ps = add_command(app, a, Command::ps, "ps", "List processes, live and ended",
                           "sbx ps --status running -q");
    ps->add_option("--session", a.ps.session, "only this session")->type_name("SESSION");
    ps->add_option("--status", a.ps.status, "only this status (starting, running, completed, failed, killed, error)")
        ->type_name("STATUS");
    ps->add_flag("-q,--quiet", a.ps.quiet, "print ids only");
    ps->add_flag("--json", a.ps.json, "print a JSON array of records");
    // For shell completion: when no daemon runs, print nothing and exit 0 instead of starting one.
    ps->add_flag("--no-start", a.ps.no_start, "do not start a daemon; print nothing when none runs")->group("");
  }

  if (want("status")) {
    auto* status = add_command(app, a, Command::status, "status", "Print a process's status word",
                               "sbx status web");
    status->add_option("id", a.show.id, "process id")->required()->type_name("ID");
  }

  if (want("show")) {
    auto* show = add_command(app, a, Command::show, "show", "Print a process's whole record", "sbx show web --json");
    show->add_option("id", a.show.id, "process id")->required()->type_name("ID");
    show->add_flag("--json", a.show.json, "print JSON instead of TOML");
  }

  if (want("logs")) {
    auto* logs = add_command(app, a, Command::logs, "logs",
                             "Print captured output (stdout to stdout, stderr to stderr; one stream alone to stdout)",
                             "sbx logs web --stderr -n 20");
    logs->add_option("id", a.logs.id, "process id")->required()->type_name("ID");
    auto* o = logs->add_flag("--stdout", a.logs.only_stdout, "only stdout");
    auto* e = logs->add_flag("--stderr", a.logs.only_stderr, "only stderr (printed on stdout)");
    o->excludes(e);
    logs->add_option("-n,--lines", a.logs.tail, "only the last N lines of each stream")->type_name("N");
    logs->add_flag("-f,--follow", a.logs.follow, "keep printing new output until the process ends");
    logs->add_flag("--json", a.logs.json, "print JSON events, one a line");
  }

  if (want("wait")) {
    auto* wait = add_command(app, a, Command::wait, "wait", "Wait for a process to end; exit with its exit code",
                             "sbx wait build --timeout 10m; echo \"build exited with $?\"");
    wait->add_option("id", a.wait.id, "process id")->required()->type_name("ID");
    wait->add_option("--timeout", a.wait.timeout, "give up after this long (exit 124), e.g. 30s, 5m")->type_name("DURATION");
  }

  if (want("wait-log")) {
    auto* wlog = add_command(app, a, Command::wait_log, "wait-log", "Wait until a line of output contains a pattern; print it",
                             "sbx wait-log web 'Listening on' --timeout 30s\n  sbx wait-log web -E 'port ([0-9]+)' --json");
    wlog->add_option("id", a.wait_log.id, "process id")->required()->type_name("ID");
    wlog->add_option("pattern", a.wait_log.pattern, "text to find (with -E: an ECMAScript regex)")->required()->type_name("PATTERN");
    wlog->add_flag("-E,--regex", a.wait_log.regex, "PATTERN is a regex");
    wlog->add_option("--stream", a.wait_log.stream, "search only stdout or stderr")->type_name("STREAM");
    wlog->add_option("--timeout", a.wait_log.timeout, "give up after this long (exit 124)")->type_name("DURATION");
    wlog->add_flag("--json", a.wait_log.json, "print {\"line\":...,\"match\":[whole, group1, ...]}");
  }

  if (want("wait-port")) {
    auto* wport = add_command(app, a, Command::wait_port, "wait-port", "Wait until a port accepts connections (or answers HTTP)",
                              "sbx wait-port web 8000 --http /health --timeout 30s");
    wport->add_option("id", a.wait_port.id, "process id")->required()->type_name("ID");
    wport->add_option("port", a.wait_port.port, "TCP port")->required()->type_name("PORT");
    wport->add_option("--host", a.wait_port.host, "host to probe (default 127.0.0.1 and ::1)")->type_name("HOST");
    wport->add_option("--http", a.wait_port.http, "send GET PATH and wait for a good status")->type_name("PATH");
    wport->add_option("--status", a.wait_port.status, "good statuses: CODE or LO-HI (default 200-399)")->type_name("CODE");
    wport->add_option("--interval", a.wait_port.interval, "time between probes (default 10ms)")->type_name("DURATION");
    wport->add_option("--timeout", a.wait_port.timeout, "give up after this long (exit 124)")->type_name("DURATION");
  }

  if (want("kill")) {
    auto* kill = add_command(app, a, Command::kill, "kill", "Stop processes: TERM to the tree, KILL after the grace",
                             "sbx kill web --grace 2s\n  sbx kill web -s HUP");
    kill->add_option("ids", a.kill.ids, "process ids")->type_name("ID");
    kill->add_option("-s,--signal", a.kill.signal, "send this signal and return (TERM, HUP, 9, ...)")->type_name("SIGNAL");
    kill->add_option("--grace", a.kill.grace, "time before SIGKILL (default 10s)")->type_name("DURATION");
    kill->add_flag("--no-wait", a.kill.no_wait, "return once the signal is sent");
    kill->add_flag("--all", a.kill.all, "every live process");
    kill->add_option("--session", a.kill.session, "with --all: only this session")->type_name("SESSION");
  }

  if (want("rm")) {
    auto* rm = add_command(app, a, Command::rm, "rm", "Forget ended processes: their records and logs",
                           "sbx rm build\n  sbx rm -f web    (kills it first)");
    rm->add_option("ids", a.rm.ids, "process ids")->required()->type_name("ID");
    rm->add_flag("-f,--force", a.rm.force, "kill live processes first (SIGKILL to the tree)");
  }

  if (want("prune")) {
    add_command(app, a, Command::prune, "prune", "Forget every ended process; print the ids removed", "sbx prune");
  }

  if (want("daemon")) {
    auto* daemon = app.add_subcommand("daemon", "About the daemon: status, stop, restart");
    daemon->footer("Example:\n  sbx daemon status --json\n  sbx daemon stop\n  sbx daemon restart");
    daemon->require_subcommand(1);
    auto* dstatus = add_command(*daemon, a, Command::daemon_status, "status", "Show the daemon's pid, uptime, socket and counts",
                                "sbx daemon status --json");
    dstatus->add_flag("--json", a.daemon.json, "print JSON");
    add_command(*daemon, a, Command::daemon_stop, "stop", "Stop every process gracefully, then the daemon",
                "sbx daemon stop");
    add_command(*daemon, a, Command::daemon_restart, "restart",
                "Replace the daemon (after an upgrade) without stopping any process", "sbx daemon restart");
  }

  if (want("completion")) {
    auto* completion = add_command(app, a, Command::completion, "completion",
                                   "Print a completion script for bash, zsh or fish",
                                   "source <(sbx completion bash)\n"
                                   "  sbx completion zsh > \"${fpath[1]}/_sbx\"\n"
                                   "  sbx completion fish > ~/.config/fish/completions/sbx.fish");
    completion->add_option("shell", a.completion.shell, "bash, zsh or fish")->required()->type_name("SHELL");
  }
  return any;
}

int parse_command_line(int argc, char** argv, Args& args) {
  // Only the command that is run is defined: CLI11 building the whole tree is about a
  // quarter of the CPU time of a short command. When argv[1] names no command (an option
  // first, a typo, nothing) the whole tree is built, for the help or the error.
  auto app = std::make_unique<CLI::App>();
  if (argc < 2 || !build_app(*app, args, argv[1])) {
    app = std::make_unique<CLI::App>();
    build_app(*app, args);
  }

  // `start ... -- CMD ARG...`: everything after the first `--` is the argv, verbatim.
  std::vector<std::string> words(argv + 1, argv + argc);
  std::vector<std::string> command;
  bool argv_form = false;
  if (!words.empty() && words[0] == "start") {
    for (std::size_t i = 1; i < words.size(); ++i) {
      if (words[i] == "--") {
        command.assign(words.begin() + static_cast<long>(i) + 1, words.end());
        words.resize(i);
        argv_form = true;
        break;
      }
    }
  }
  std::reverse(words.begin(), words.end());  // CLI11 takes a reversed vector
  try {
    app->parse(words);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    return report_usage(msg + " (see 'sbx --help')");
  }
  // An option given with an empty value ("--timeout ''") is a mistake, not "not given".
  std::vector<const CLI::App*> parsed;
  for (const auto* sub : app->get_subcommands()) {
    parsed.push_back(sub);
    for (const auto* leaf : sub->get_subcommands()) parsed.push_back(leaf);
  }
  for (const auto* cmd : parsed) {
    for (const auto* opt : cmd->get_options()) {
      if (opt->get_expected_min() == 0 || opt->count() == 0) continue;
      for (const auto& r : opt->results()) {
        if (r.empty()) return report_usage("option " + opt->get_name() + " needs a value, not an empty string");
      }
    }
  }
  if (args.command == Command::start) {
    auto* start = app->get_subcommand("start");
    if (argv_form) {
      if (!start->remaining().empty()) {
        return report_usage("unexpected '" + start->remaining()[0] + "' before '--': put options first");
      }
      args.start.command = std::move(command);
      args.start.argv_form = true;
    } else {
      args.start.command = start->remaining();
      // One shell line never starts with '-': that is an option sbx does not know.
      if (!args.start.command.empty() && args.start.command[0].starts_with("-")) {
        return report_usage("start: unknown option '" + args.start.command[0] +
                            "' (see 'sbx start --help'; a command goes after '--')");
      }
    }
  }
  return -1;
}

}  // namespace sbx::cli
