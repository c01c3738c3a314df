// sbxd: the daemon. Started by `sbx` on first use (detached, with --ready-fd), or by hand.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "common/defaults.hpp"
#include "common/fd.hpp"
#include "common/paths.hpp"
#include "daemon/daemon.hpp"
#include "sbx_config.h"

namespace {

constexpr const char* kUsage =
    "usage: sbxd [--foreground] [--home DIR] [--proxy-port PORT]\n"
    "\n"
    "The sbx daemon. sbx starts it on first use; run it by hand to watch its log\n"
    "(--foreground logs to stderr) or under a service manager.\n"
    "  --foreground   stay attached to the terminal, log to stderr\n"
    "  --home DIR     keep the socket and state under DIR (as SBX_HOME does)\n"
    "  --proxy-port PORT  the preview proxy's port (as SBX_PROXY_PORT does; default 7780,\n"
    "                 0: a free one)\n"
    "  --version      print the version\n";

int die(const std::string& msg) {
  std::fprintf(stderr, "sbxd: %s\n", msg.c_str());
  return 1;
}

/// Takes a pid-file lock for the life of the process. Returns the held fd, or an empty one
/// with `err` set.
sbx::UniqueFd take_pid_lock(const std::string& path, std::string& err) {
  sbx::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    err = "cannot open " + path + ": " + std::strerror(errno);
    return {};
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    err = "another sbxd (pid " + pid + ") already serves " + path.substr(0, path.rfind('/'));
    return {};
  }
  return fd;
}

void write_pid(int fd) {
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
}

void setup_logging() {
  auto logger = spdlog::stderr_logger_st("sbxd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %L %v");
  const char* level = std::getenv("SBX_LOG");
  logger->set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

/// A --proxy-port or SBX_PROXY_PORT value: 0-65535.
std::optional<int> parse_proxy_port(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > 65535) return std::nullopt;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  bool foreground = false;
  int ready_fd = -1;
  std::optional<std::string> home;
  std::optional<std::string> proxy_port;
  if (const char* env = std::getenv("SBX_PROXY_PORT"); env && *env) proxy_port = env;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--foreground" || a == "-f")
      foreground = true;
    else if (a == "--home" && i + 1 < argc)
      home = argv[++i];
    else if (a.starts_with("--home="))
      home = a.substr(7);
    else if (a == "--proxy-port" && i + 1 < argc)
      proxy_port = argv[++i];
    else if (a.starts_with("--proxy-port="))
      proxy_port = a.substr(13);
    else if (a.starts_with("--ready-fd="))
      ready_fd = std::atoi(a.c_str() + 11);
    else if (a == "--version")
      return std::printf("sbxd %s\n", SBX_VERSION), 0;
    else if (a == "-h" || a == "--help")
      return std::fputs(kUsage, stdout), 0;
    else
      return std::fprintf(stderr, "sbxd: unknown argument '%s'\n%s", a.c_str(), kUsage), 2;
  }
  if (ready_fd >= 0) ::fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  int proxy = sbx::kDefaultProxyPort;
  if (proxy_port) {
    auto n = parse_proxy_port(*proxy_port);
    if (!n) {
      std::fprintf(stderr, "sbxd: bad proxy port '%s': use 0-65535 (0: a free port)\n",
                   proxy_port->c_str());
      return 2;
    }
    proxy = *n;
  }
  // Socket activation (sd_listen_fds(3) protocol): the listening socket is fd 3.
  int listen_fd = -1;
  if (const char* pid = std::getenv("LISTEN_PID"); pid && std::atol(pid) == ::getpid()) {
    const char* fds = std::getenv("LISTEN_FDS");
    if (fds && std::atoi(fds) >= 1) listen_fd = 3;
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }

  auto paths = sbx::resolve_paths(home);
  if (!paths) return die(paths.error().message);
  if (auto st = sbx::ensure_private_dir(paths->runtime_dir); !st) return die(st.error().message);
  for (const auto& d : {paths->state_dir, paths->processes_dir, paths->logs_dir, paths->pool_dir}) {
    if (auto st = sbx::ensure_dir(d); !st) return die(st.error().message);
  }
  // Exactly one sbxd per runtime folder (its socket) and per state folder (its records):
  // a login shell with XDG_RUNTIME_DIR and a cron job without it share the state folder.
  std::string err;
  sbx::UniqueFd lock = take_pid_lock(paths->pid_file, err);
  if (!lock) return die(err);
  sbx::UniqueFd state_lock = take_pid_lock(paths->state_pid_file, err);
  if (!state_lock) return die(err);

  if (!foreground) {
    // Started by hand: fork so the shell gets its prompt back once we listen.
    if (ready_fd < 0) {
      int pipefd[2];
      if (::pipe2(pipefd, O_CLOEXEC) != 0) return die(std::string("pipe: ") + std::strerror(errno));
      pid_t pid = ::fork();
      if (pid < 0) return die(std::string("fork: ") + std::strerror(errno));
      if (pid > 0) {
        ::close(pipefd[1]);
        char c = 0;
        ssize_t n = ::read(pipefd[0], &c, 1);
        if (n == 1) return 0;
        return die("the daemon failed to start; see " + paths->daemon_log);
      }
      ::close(pipefd[0]);
      ready_fd = pipefd[1];
      ::setsid();
    }
    sbx::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    sbx::UniqueFd log(
        ::open(paths->daemon_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!null || !log) return die("cannot open /dev/null or " + paths->daemon_log);
    ::dup2(null.get(), 0);
    ::dup2(null.get(), 1);
    ::dup2(log.get(), 2);
    if (::chdir("/") != 0) return die("cannot chdir to /");
  }
  write_pid(lock.get());
  write_pid(state_lock.get());
  setup_logging();
  sbx::daemon::DaemonOptions opts{*paths, ready_fd, foreground, listen_fd, proxy};
  int rc = sbx::daemon::run_daemon(opts);
  // Emptied, not removed: removing it would let a starting daemon lock a file that the
  // next one no longer sees.
  for (const auto* held : {&lock, &state_lock}) {
    if (::ftruncate(held->get(), 0) != 0)
      spdlog::warn("cannot empty a pid file: {}", std::strerror(errno));
  }
  return rc;
}
