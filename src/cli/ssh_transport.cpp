#include "cli/ssh_transport.hpp"

#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/atomic_file.hpp"
#include "common/command_line.hpp"
#include "common/duration.hpp"
#include "common/paths.hpp"
#include "common/spawn_session.hpp"

extern char** environ;

namespace sbx::cli {
namespace {

/// ssh processes of earlier connections, reaped once they ended. `sbx up` connects from
/// several threads at once: g_ssh_mutex guards the list.
std::vector<pid_t> g_ssh_pids;
std::mutex g_ssh_mutex;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

/// A config line (not a comment) whose keyword is ControlMaster or ControlPath.
bool config_sets_mux(const std::string& file) {
  auto text = read_file(file);
  if (!text) return false;
  std::string_view t = *text;
  while (!t.empty()) {
    auto nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t = nl == std::string_view::npos ? std::string_view{} : t.substr(nl + 1);
    auto b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos || line[b] == '#') continue;
    auto key = lower(std::string(line.substr(b, line.find_first_of(" \t=", b) - b)));
    if (key == "controlmaster" || key == "controlpath") return true;
  }
  return false;
}

bool any_config_sets_mux(const std::vector<std::string>& files) {
  for (const auto& f : files) {
    glob_t g{};
    if (::glob(f.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        if (config_sets_mux(g.gl_pathv[i])) {
          ::globfree(&g);
          return true;
        }
      }
    }
    ::globfree(&g);
  }
  return false;
}

/// The ControlPath folder: the local runtime folder when its socket names fit in
/// sockaddr_un (ssh adds ".XXXXXXXXXXXXXXXX" to "sbx-ssh-" and the 40 digits of %C while
/// it binds), else /tmp/sbx-UID.
std::string control_dir() {
  auto fits = [](const std::string& d) {
    return d.size() + std::strlen("/sbx-ssh-") + 40 + 17 < sizeof(sockaddr_un{}.sun_path);
  };
  auto p = resolve_paths();
  std::string dir =
      p && fits(p->runtime_dir) ? p->runtime_dir : "/tmp/sbx-" + std::to_string(::getuid());
  if (!fits(dir) || !ensure_private_dir(dir)) return "";
  return dir;
}

void reap_ended() {
  std::lock_guard lock(g_ssh_mutex);
  std::erase_if(g_ssh_pids, [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) != 0; });
}

/// Waits at most `ms` for `pid` to end; returns its wait status, or -1 (still running).
int wait_for(pid_t pid, int ms) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return status;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, ms);
    ::close(pidfd);
  }
  return ::waitpid(pid, &status, WNOHANG) == pid ? status : -1;
}

}  // namespace

bool user_sets_mux(const std::string& ssh_command) {
  std::string cmd = lower(ssh_command);
  if (cmd.find("controlmaster") != std::string::npos ||
      cmd.find("controlpath") != std::string::npos)
    return true;
  std::vector<std::string> words;
  if (auto w = split_plain_command(ssh_command)) words = *w;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "-S" || words[i] == "-M" || words[i] == "-MM") return true;
    if (words[i] == "-F" && i + 1 < words.size()) return any_config_sets_mux({words[i + 1]});
  }
  std::vector<std::string> files{"/etc/ssh/ssh_config", "/etc/ssh/ssh_config.d/*.conf"};
  if (const char* home = std::getenv("HOME"); home && *home)
    files.push_back(std::string(home) + "/.ssh/config");
  return any_config_sets_mux(files);
}

std::vector<std::string> ssh_argv(const HostUrl& host, const SshSetup& setup, bool user_has_mux) {
  std::vector<std::string> opts;
  if (!user_has_mux && !setup.control_dir.empty()) {
    opts.insert(opts.end(),
                {"-o", "ControlMaster=auto", "-o",
                 "ControlPath=" + setup.control_dir + "/sbx-ssh-%C", "-o", "ControlPersist=60s"});
  }
  opts.push_back("-T");
  if (host.port) opts.insert(opts.end(), {"-p", std::to_string(host.port)});
  if (!host.user.empty()) opts.insert(opts.end(), {"-l", host.user});
  opts.push_back(host.host);
  std::string remote = setup.remote_sbx + " dial-stdio";
  if (!host.home.empty()) remote += " --home " + shell_join({host.home});
  if (!setup.start_daemon) remote += " --no-start";
  opts.push_back(remote);

  std::vector<std::string> argv;
  if (auto words = split_plain_command(setup.ssh_command); words && !words->empty()) {
    argv = *words;
  } else {
    argv = {"/bin/sh", "-c", setup.ssh_command + " \"$@\"", "sbx-ssh"};
  }
  argv.insert(argv.end(), opts.begin(), opts.end());
  return argv;
}

Result<SshLink> SshLink::open(const HostUrl& host, bool start_daemon, UniqueFd& socket) {
  reap_ended();
  SshSetup setup;
  setup.ssh_command = env_or("SBX_SSH_COMMAND", "ssh");
  setup.remote_sbx = env_or("SBX_REMOTE_SBX", "sbx");
  setup.start_daemon = start_daemon;
  bool theirs = user_sets_mux(setup.ssh_command);
  if (!theirs) setup.control_dir = control_dir();
  auto argv = ssh_argv(host, setup, theirs);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return make_error(Errc::unavailable, std::string("socketpair: ") + std::strerror(errno));
  UniqueFd mine(sv[0]), theirs_end(sv[1]);
  int ep[2];
  if (::pipe2(ep, O_CLOEXEC) != 0)
    return make_error(Errc::unavailable, std::string("pipe: ") + std::strerror(errno));
  UniqueFd err_read(ep[0]), err_write(ep[1]);
  ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);

  SshLink link;
  SessionSpawn spawn{argv[0], argv, environ, {theirs_end.get(), theirs_end.get(), err_write.get()}};
  spawn.new_session = false;  // ssh may ask for a passphrase on the terminal
  if (int rc = spawn_in_session(spawn, link.pid_); rc != 0) {
    return make_error(Errc::unavailable, "cannot run " + argv[0] + " to reach " + host.name() +
                                             ": " + std::strerror(rc) +
                                             " (install OpenSSH's ssh, or set SBX_SSH_COMMAND)");
  }
  {
    std::lock_guard lock(g_ssh_mutex);
    g_ssh_pids.push_back(link.pid_);
  }
  link.err_ = std::move(err_read);
  link.remote_sbx_ = setup.remote_sbx;
  socket = std::move(mine);
  return link;
}

void SshLink::drain() {
  char buf[4096];
  while (err_) {
    ssize_t n = ::read(err_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      err_.reset();
      break;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
      std::string line = partial_.substr(0, nl);
      partial_.erase(0, nl + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.find("dial-stdio") != std::string::npos) mentions_dial_stdio_ = true;
      if (line.find("Host key verification failed") != std::string::npos ||
          line.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos)
        host_key_failed_ = true;
      if (!line.empty()) last_line_ = line.substr(0, 400);
    }
    if (partial_.size() > 4096) partial_.erase(0, partial_.size() - 4096);
  }
  if (!partial_.empty()) last_line_ = partial_.substr(0, 400), partial_.clear();
}

Error SshLink::failure(const HostUrl& host, int timed_out_ms) {
  const std::string name = host.name();
  int status = -1;
  if (pid_ > 0) {
    status = timed_out_ms ? -1 : wait_for(pid_, 5000);
    if (status == -1) {
      ::kill(pid_, SIGTERM);
      status = wait_for(pid_, 5000);
    }
    {
      std::lock_guard lock(g_ssh_mutex);
      std::erase(g_ssh_pids, pid_);
    }
    pid_ = -1;
  }
  drain();
  std::string said = last_line_.empty() ? "" : ": " + last_line_;
  if (timed_out_ms) {
    return make_error(Errc::unavailable, "cannot reach " + name + " over ssh: no answer within " +
                                             format_duration(Millis(timed_out_ms)) + said);
  }
  int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (host_key_failed_) {
    return make_error(Errc::failed,
                      "cannot reach " + name + " over ssh: its host key is not the one known" +
                          said + " (check it, then fix ~/.ssh/known_hosts: ssh " + name + ")");
  }
  if (code == 127 || code == 126) {
    return make_error(Errc::failed,
                      name + " has no '" + remote_sbx_ + "' to run (set SBX_REMOTE_SBX)" + said);
  }
  if (mentions_dial_stdio_ && code == 2) {
    return make_error(Errc::failed, "the sbx on " + name +
                                        " has no dial-stdio: install this version there, or set "
                                        "SBX_REMOTE_SBX" +
                                        said);
  }
  if (code != 255 && last_line_.starts_with("sbx: "))
    return make_error(Errc::unavailable, "on " + name + ": " + last_line_.substr(5));
  if (said.empty())
    said = code >= 0 ? ": ssh exited with " + std::to_string(code) : ": ssh was killed";
  return make_error(Errc::unavailable, "cannot reach " + name + " over ssh" + said);
}

}  // namespace sbx::cli
