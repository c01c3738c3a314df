#include "cli/start_request.hpp"

#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "cli/host.hpp"
#include "common/atomic_file.hpp"
#include "common/byte_size.hpp"
#include "common/command_line.hpp"
#include "common/defaults.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"
#include "proto/ops.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_start.hpp"

extern char** environ;

namespace sbx::cli {
namespace json = boost::json;

std::string current_dir() {
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) return buf;
  return "/";
}

void define_process_options(CommandDef& cmd, ProcessArgs& a, const char* rm_help) {
  cmd.option("--id", a.id, "a custom id: letters, digits, '.', '_', '-' (max 64)")
      .type_name("NAME");
  cmd.option("--cwd", a.cwd,
             "working directory (default: the current one; with --host: the remote $HOME)")
      .type_name("DIR");
  cmd.option("-e,--env", a.env, "set NAME=VALUE in its environment (repeatable)")
      .one_value_each()
      .type_name("NAME=VALUE");
  cmd.option("--env-file", a.env_files, "read NAME=VALUE lines from a file (repeatable)")
      .one_value_each()
      .type_name("FILE");
  cmd.option("--session", a.session,
             "tag it with a session (default: $SBX_SESSION, else 'default')")
      .type_name("SESSION");
  cmd.option("--timeout", a.timeout, "stop it (TERM, KILL after 10s) once it has run this long")
      .type_name("DURATION");
  cmd.flag("--rm", a.auto_cleanup, rm_help);
  cmd.option("--restart", a.restart, "restart policy: no, on-failure, always (back-off 100ms..30s)")
      .type_name("POLICY");
  cmd.option("--max-restarts", a.max_restarts, "give up after N restarts (default: no limit)")
      .type_name("N");
  cmd.option("--log-max", a.log_max,
             "cap each of its logs, keeping the newest output (default 64M; 0: no cap)")
      .type_name("SIZE");
  cmd.flag("--tty", a.tty, "its stdout is a terminal (line-buffered, colours); stderr stays apart");
  cmd.option("--tty-size", a.tty_size, "with --tty: the window size (default 80x24)")
      .type_name("COLSxROWS");
  cmd.option("--user", a.user,
             "run it as this user (and group), names or numbers; sbxd must be root")
      .type_name("USER[:GROUP]");
  cmd.option("--memory-max", a.memory_max, "cap its tree's memory (its cgroup's memory.max)")
      .type_name("SIZE");
  cmd.option("--pids-max", a.pids_max, "cap its tree's number of processes (pids.max)")
      .type_name("N");
  cmd.option("--cpu-max", a.cpu_max, "cap its tree's CPU time, in % of one core (cpu.max)")
      .type_name("PCT");
}

Status take_command_words(ProcessArgs& a, const CommandDef& cmd, std::string_view name) {
  const auto rest = cmd.remaining();
  const auto& argv = cmd.argv();
  const std::string n(name);
  if (!rest.empty() && rest[0].starts_with("-")) {
    return make_error(Errc::usage, n + ": unknown option '" + rest[0] + "' (see 'sbx " + n +
                                       " --help'" + (argv ? ")" : "; a command goes after '--')"));
  }
  if (argv) {
    if (!rest.empty())
      return make_error(Errc::usage, "unexpected '" + rest[0] + "' before '--': put options first");
    a.command = *argv;
    a.argv_form = true;
  } else {
    a.command = rest;
  }
  return ok_status();
}

namespace {

/// A byte size option (--log-max, --memory-max), when given, into `into`.
template <class T>
Status take_byte_size(const std::string& text, T& into) {
  if (text.empty()) return ok_status();
  auto bytes = parse_byte_size(text);
  if (!bytes) return bytes.error();
  into = *bytes;
  return ok_status();
}

}  // namespace

Result<json::object> start_request(const ProcessArgs& a, std::string_view name) {
  const std::string n(name);
  if (a.command.empty()) {
    return make_error(Errc::usage, "give a command: sbx " + n +
                                       " [OPTIONS] -- CMD [ARG...] or sbx " + n + " 'SHELL LINE'");
  }
  if (!a.id.empty()) {
    if (auto st = check_id(a.id); !st) return st.error();
  }
  proto::StartRequest req;
  req.id = a.id;
  if (!a.argv_form && a.command.size() == 1) {
    if (a.command[0].find_first_not_of(" \t\n") == std::string::npos)
      return make_error(Errc::usage, "the shell line is empty");
    req.shell_line = a.command[0];
  } else {
    req.argv = a.command;
  }

  // On another host, the local folder means nothing: the daemon takes --cwd under its $HOME.
  req.remote = talking_to_remote();
  if (req.remote) {
    req.cwd = a.cwd;
  } else {
    std::string cwd = current_dir();
    if (!a.cwd.empty()) cwd = a.cwd[0] == '/' ? a.cwd : cwd + "/" + a.cwd;
    req.cwd = cwd;
  }

  for (const auto& file : a.env_files) {
    auto text = read_file(file);
    if (!text) return make_error(Errc::usage, "cannot read env file: " + text.error().message);
    if (auto bad = parse_env_file(*text, req.env)) {
      return make_error(Errc::usage, file + ":" + std::to_string(bad->line) + ": " + bad->message);
    }
  }
  for (const auto& kv : a.env) {
    std::string k, v;
    if (!parse_env_assignment(kv, k, v))
      return make_error(Errc::usage, "bad -e '" + kv + "': use -e NAME=VALUE");
    req.env[k] = v;
  }
  if (!req.remote) {
    for (char** e = environ; e && *e; ++e) req.base_env.emplace_back(*e);
  }

  if (!a.timeout.empty()) {
    auto d = parse_duration(a.timeout);
    if (!d) return d.error();
    if (d->count() <= 0) return make_error(Errc::usage, "--timeout must be more than 0");
    req.timeout_ms = d->count();
  }
  req.auto_cleanup = a.auto_cleanup;
  if (!a.restart.empty()) req.restart = a.restart;
  if (auto st = take_byte_size(a.log_max, req.log_max); !st) return st.error();
  req.tty = a.tty;
  if (!a.tty_size.empty()) {
    if (!a.tty) return make_error(Errc::usage, "--tty-size goes with --tty");
    if (auto size = parse_tty_size(a.tty_size); !size) return size.error();
    req.tty_size = a.tty_size;
  }
  if (a.max_restarts) {
    if (*a.max_restarts < 0)
      return make_error(Errc::usage, "--max-restarts takes a number, 0 or more");
    if (a.restart.empty() || a.restart == "no")
      return make_error(Errc::usage, "--max-restarts goes with --restart on-failure or always");
    req.max_restarts = *a.max_restarts;
  }

  if (!a.user.empty()) {
    if (auto st = check_user(a.user); !st) return st.error();
    req.user = a.user;
  }
  if (auto st = take_byte_size(a.memory_max, req.memory_max); !st) return st.error();
  req.pids_max = a.pids_max;
  if (!a.cpu_max.empty()) {
    std::string pct =
        a.cpu_max.ends_with('%') ? a.cpu_max.substr(0, a.cpu_max.size() - 1) : a.cpu_max;
    char* end = nullptr;
    long long v = std::strtoll(pct.c_str(), &end, 10);
    if (pct.empty() || *end != '\0')
      return make_error(Errc::usage, "bad --cpu-max '" + a.cpu_max +
                                         "': give a percentage of one core, 50 or 250%");
    req.cpu_max = v;
  }

  req.session = a.session;
  if (req.session.empty()) {
    const char* s = std::getenv("SBX_SESSION");
    req.session = s && *s ? s : "default";
  }
  // The daemon's rules (the restart policy, the log cap, ...), checked before it is asked.
  auto checked = proto::checked_json(req);
  if (!checked) return checked.error();
  json::object args = std::move(*checked);

  if (auto size = json::serialize(args).size(); size > proto::kMaxRequestPayload) {
    std::size_t env_bytes = 0;
    if (auto* base = args.if_contains("base_env"))
      for (const auto& v : base->as_array()) env_bytes += v.as_string().size() + 1;
    for (const auto& [k, v] : req.env) env_bytes += k.size() + v.size() + 2;
    return Error{Errc::failed, "the environment (" + std::to_string(env_bytes) +
                                   " bytes) and command make a start request of " +
                                   std::to_string(size) + " bytes, more than the " +
                                   std::to_string(proto::kMaxRequestPayload) +
                                   " bytes sbxd accepts"};
  }
  return args;
}

}  // namespace sbx::cli
