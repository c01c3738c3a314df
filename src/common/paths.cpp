#include "common/paths.hpp"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sbx {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::string absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return p;
  return std::string(buf) + "/" + p;
}

}  // namespace

std::string Paths::record_path(const std::string& id) const {
  return processes_dir + "/" + id + ".toml";
}

std::string Paths::log_path(const std::string& id, bool stderr_stream) const {
  return logs_dir + "/" + id + (stderr_stream ? ".stderr" : ".stdout");
}

std::string Paths::index_path(const std::string& id) const {
  return logs_dir + "/" + id + ".index";
}

std::string Paths::exit_path(const std::string& id) const {
  return processes_dir + "/" + id + ".exit";
}

std::string Paths::restart_env_path(const std::string& id) const {
  return processes_dir + "/" + id + ".env";
}

Result<Paths> resolve_paths(const std::optional<std::string>& home_override) {
  Paths p;
  auto home = home_override ? home_override : env("SBX_HOME");
  if (home) {
    std::string h = absolute(*home);
    while (h.size() > 1 && h.back() == '/') h.pop_back();
    p.runtime_dir = h;
    p.state_dir = h + "/state";
  } else {
    if (auto xdg = env("XDG_RUNTIME_DIR"))
      p.runtime_dir = *xdg + "/sbx";
    else
      p.runtime_dir = "/tmp/sbx-" + std::to_string(::getuid());
    if (auto xdg = env("XDG_STATE_HOME"))
      p.state_dir = *xdg + "/sbx";
    else if (auto user_home = env("HOME"))
      p.state_dir = *user_home + "/.local/state/sbx";
    else
      return make_error(Errc::failed,
                        "cannot find a state folder: set HOME, XDG_STATE_HOME or SBX_HOME");
  }
  p.socket = p.runtime_dir + "/sbxd.sock";
  p.lock = p.runtime_dir + "/sbxd.lock";
  p.pid_file = p.runtime_dir + "/sbxd.pid";
  p.processes_dir = p.state_dir + "/processes";
  p.logs_dir = p.state_dir + "/logs";
  p.pool_dir = p.state_dir + "/pool";
  p.daemon_log = p.state_dir + "/sbxd.log";
  p.state_pid_file = p.state_dir + "/sbxd.pid";
  if (p.socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return make_error(Errc::failed, "socket path " + p.socket +
                                        " is longer than the system limit of " +
                                        std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                                        " bytes: set SBX_HOME to a shorter folder");
  }
  return p;
}

Status ensure_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::failed, dir + " exists and is not a folder");
    return ok_status();
  }
  auto slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    auto parent = ensure_dir(dir.substr(0, slash));
    if (!parent) return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(Errc::failed, "cannot create " + dir + ": " + std::strerror(errno));
  }
  return ok_status();
}

Status ensure_private_dir(const std::string& dir) {
  auto made = ensure_dir(dir);
  if (!made) return made;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return make_error(Errc::failed, "cannot stat " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return make_error(Errc::failed, dir + " is not a folder (a symlink?)");
  if (st.st_uid != ::geteuid()) {
    return make_error(Errc::failed,
                      "folder " + dir + " belongs to another user: remove it or set SBX_HOME");
  }
  if (st.st_mode & 077) {
    if (::chmod(dir.c_str(), 0700) != 0) {
      return make_error(Errc::failed, "folder " + dir +
                                          " is open to other users and cannot be made private: " +
                                          std::strerror(errno));
    }
  }
  return ok_status();
}

}  // namespace sbx
