#include "proto/requests_start.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

#include "common/command_line.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::proto {
namespace json = boost::json;

namespace {

// Arguments, paths and the environment are bytes (proto/bytes.hpp).
Result<std::vector<std::string>> bytes_list(const json::object& args, const char* key) {
  std::vector<std::string> out;
  auto* v = args.if_contains(key);
  if (!v) return out;
  if (!v->is_array())
    return make_error(Errc::protocol, std::string("'") + key + "' must be a list of strings");
  for (const auto& e : v->get_array()) {
    auto s = bytes_from_json(e);
    if (!s)
      return make_error(Errc::protocol, std::string("'") + key + "' must be a list of strings");
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace

Result<StartRequest> StartRequest::from_json(const json::object& args) {
  StartRequest spec;
  spec.id = get_opt_string(args, "id").value_or("");
  auto argv = bytes_list(args, "argv");
  if (!argv) return argv.error();
  spec.argv = std::move(*argv);
  spec.shell_line = get_opt_bytes(args, "shell").value_or("");
  if (spec.argv.empty() == spec.shell_line.empty()) {
    return make_error(Errc::usage,
                      "give a command: sbx start -- CMD [ARG...] or sbx start 'SHELL LINE'");
  }
  if (!spec.argv.empty() && spec.argv[0].empty())
    return make_error(Errc::usage, "the program name is empty");
  auto cwd = get_opt_bytes(args, "cwd");
  spec.remote = get_bool(args, "remote");
  if (!cwd && !spec.remote) return make_error(Errc::protocol, "request lacks string 'cwd'");
  if (!spec.remote && (cwd->empty() || (*cwd)[0] != '/'))
    return make_error(Errc::protocol, "'cwd' must be an absolute path");
  spec.cwd = cwd.value_or("");
  auto env = bytes_list(args, "base_env");
  if (!env) return env.error();
  if (spec.remote && !env->empty())
    return make_error(Errc::protocol,
                      "a remote start takes the daemon's environment: no 'base_env'");
  spec.base_env = std::move(*env);
  if (auto* o = args.if_contains("env"); o && o->is_object()) {
    for (const auto& [k, v] : o->get_object()) {
      auto value = bytes_from_json(v);
      if (!value) return make_error(Errc::protocol, "'env' values must be strings");
      if (!is_env_name(k))
        return make_error(Errc::usage, "'" + std::string(k) + "' is not a variable name");
      spec.env[std::string(k)] = std::move(*value);
    }
  }
  spec.session = get_opt_bytes(args, "session").value_or("default");
  if (spec.session.empty()) spec.session = "default";
  spec.timeout_ms = get_opt_int(args, "timeout_ms");
  if (spec.timeout_ms && *spec.timeout_ms <= 0)
    return make_error(Errc::usage, "the timeout must be more than 0");
  spec.auto_cleanup = get_bool(args, "auto_cleanup");
  spec.restart = get_opt_string(args, "restart").value_or("no");
  if (auto st = check_restart_policy(spec.restart); !st) return st.error();
  if (auto m = get_opt_int(args, "log_max")) {
    if (auto st = check_log_max(*m); !st) return st.error();
    spec.log_max = *m;
  }
  spec.tty = get_bool(args, "tty");
  if (auto size = get_opt_string(args, "tty_size")) {
    if (!spec.tty) return make_error(Errc::usage, "--tty-size goes with --tty");
    if (auto st = parse_tty_size(*size); !st) return st.error();
    spec.tty_size = *size;
  }
  if (auto m = get_opt_int(args, "max_restarts")) {
    if (auto st = check_max_restarts(*m); !st) return st.error();
    spec.max_restarts = static_cast<int>(*m);
  }
  spec.user = get_opt_string(args, "user").value_or("");
  if (auto* u = args.if_contains("user"); u && (!u->is_string() || spec.user.empty()))
    return make_error(Errc::protocol, "'user' must be a string: USER or USER:GROUP");
  if (!spec.user.empty()) {
    if (auto st = check_user(spec.user); !st) return st.error();
  }
  spec.memory_max = get_opt_int(args, "memory_max");
  spec.pids_max = get_opt_int(args, "pids_max");
  spec.cpu_max = get_opt_int(args, "cpu_max");
  if (spec.memory_max && *spec.memory_max <= 0)
    return make_error(Errc::usage, "--memory-max must be more than 0 bytes");
  if (spec.pids_max && *spec.pids_max <= 0)
    return make_error(Errc::usage, "--pids-max must be at least 1");
  if (spec.cpu_max && (*spec.cpu_max <= 0 || *spec.cpu_max > kMaxCpuPercent))
    return make_error(Errc::usage, "--cpu-max must be a percentage of one core from 1 to " +
                                       std::to_string(kMaxCpuPercent));
  spec.definition = get_opt_string(args, "definition").value_or("");
  bool plain = std::all_of(spec.definition.begin(), spec.definition.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
  if (spec.definition.size() > kMaxDefinitionSize || !plain)
    return make_error(Errc::protocol, "'definition' must be at most " +
                                          std::to_string(kMaxDefinitionSize) +
                                          " lower-case letters and digits");
  return spec;
}

json::object StartRequest::to_json() const {
  json::object o;
  if (!id.empty()) o["id"] = id;
  if (!argv.empty()) {
    json::array a;
    for (const auto& w : argv) a.push_back(bytes_to_json(w));
    o["argv"] = std::move(a);
  } else {
    o["shell"] = bytes_to_json(shell_line);
  }
  o["cwd"] = bytes_to_json(cwd);
  json::object overrides;
  for (const auto& [k, v] : env) overrides[k] = bytes_to_json(v);
  o["env"] = std::move(overrides);
  if (remote) {
    o["remote"] = true;
  } else {
    json::array base;
    for (const auto& e : base_env) base.push_back(bytes_to_json(e));
    o["base_env"] = std::move(base);
  }
  if (timeout_ms) o["timeout_ms"] = *timeout_ms;
  if (auto_cleanup) o["auto_cleanup"] = true;
  if (restart != "no") o["restart"] = restart;
  if (log_max != kDefaultLogMax) o["log_max"] = log_max;
  if (max_restarts) o["max_restarts"] = *max_restarts;
  if (tty) o["tty"] = true;
  if (tty_size != kDefaultTtySize) o["tty_size"] = tty_size;
  o["session"] = bytes_to_json(session);
  if (!definition.empty()) o["definition"] = definition;
  if (!user.empty()) o["user"] = user;
  if (memory_max) o["memory_max"] = *memory_max;
  if (pids_max) o["pids_max"] = *pids_max;
  if (cpu_max) o["cpu_max"] = *cpu_max;
  return o;
}

}  // namespace sbx::proto
