// Finding and reading the project file; the start request of each of its processes.

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cstdio>

#include "cli/host.hpp"
#include "cli/project.hpp"
#include "cli/start_request.hpp"
#include "common/atomic_file.hpp"
#include "common/command_line.hpp"

extern char** environ;

namespace sbx::cli {
namespace {

constexpr const char* kProjectFile = "sbx.toml";
constexpr const char* kProcfile = "Procfile";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

/// FNV-1a, 64 bits, as 16 hex digits: the same text gives the same digest in every build.
std::string digest(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

Result<Project> load_project(const std::string& file, const std::string& name) {
  std::string path = file;
  if (path.empty()) {
    if (exists(kProjectFile))
      path = kProjectFile;
    else if (exists(kProcfile))
      path = kProcfile;
    else
      return make_error(Errc::usage, std::string("no ") + kProjectFile + " or " + kProcfile +
                                         " in this folder: write one, or name it with -f FILE");
  }
  auto text = read_file(path);
  if (!text) return make_error(Errc::usage, text.error().message);  // "cannot read PATH: why"
  std::string abs = path[0] == '/' ? path : current_dir() + "/" + path;
  std::string dir = abs.substr(0, abs.find_last_of('/'));
  if (dir.empty()) dir = "/";
  auto p = is_procfile_name(path) ? parse_procfile(*text, path, dir)
                                  : parse_project_toml(*text, path, dir);
  if (!p) return p.error();
  if (!name.empty()) p->name = name;
  return p;
}

Result<proto::StartRequest> start_request_for(const Project& p, const ProcessDef& d) {
  proto::StartRequest req;
  req.id = d.name;
  req.argv = d.argv;
  req.shell_line = d.shell_line;
  req.remote = talking_to_remote();  // the file is read here; cwd is the other host's
  req.cwd = req.remote ? d.cwd_given : d.cwd;
  if (!d.env_file.empty()) {
    auto text = read_file(d.env_file);
    if (!text)
      return make_error(Errc::usage, p.file + ":" + std::to_string(d.line) + ": process." + d.name +
                                         ".env_file: " + text.error().message);
    if (auto bad = parse_env_file(*text, req.env))
      return make_error(Errc::usage,
                        d.env_file + ":" + std::to_string(bad->line) + ": " + bad->message);
  }
  for (const auto& [k, v] : d.env) req.env[k] = v;  // env wins over env_file, as -e over --env-file
  req.session = p.name;
  req.timeout_ms = d.timeout_ms;
  req.restart = d.restart;
  req.max_restarts = d.max_restarts;
  req.log_max = d.log_max;
  req.tty = d.tty;  // the window: kDefaultTtySize
  req.user = d.user;
  // The digest covers what the process is started with from the file, not the caller's
  // environment: `up` from another shell leaves an unchanged process alone.
  req.definition = digest(boost::json::serialize(req.to_json()));
  if (!req.remote) {
    for (char** e = environ; e && *e; ++e) req.base_env.emplace_back(*e);
  }
  if (auto checked = proto::checked_json(req); !checked) return checked.error();
  return req;
}

}  // namespace sbx::cli
