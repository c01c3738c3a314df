// sbx-shim: the per-process waiter. sbxd starts one per run; it starts the program and
// waits for it, so a program's exit status is known even when sbxd died or was replaced
// meanwhile (a container runtime's monitor does the same job).
//
// Its command line and what it says to sbxd on fd 3: shim/protocol.hpp.
//
// Only libc: the waiter is exec'd once per run (ahead of it, as a spare: spare.hpp) and must
// start fast and stay small.

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "shim/child.hpp"
#include "shim/fork_program.hpp"
#include "shim/hand_over.hpp"
#include "shim/protocol.hpp"
#include "shim/relay.hpp"
#include "shim/spare.hpp"

extern char** environ;

namespace {

using namespace sbx::waiter;

void report(const char* line) { write_all(kReportFd, line, strlen(line)); }

/// The raw wait status (as waitpid(2) gives it) of what waitid(2) reported.
int wait_status(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return (info.si_status & 0xff) << 8;
  if (info.si_code == CLD_DUMPED) return (info.si_status & 0x7f) | 0x80;
  return info.si_status & 0x7f;  // CLD_KILLED
}

/// The program's stdout as a pseudo-terminal of window `size` ("COLSxROWS"): fds[0] its
/// master (non-blocking), fds[1] its slave, both close-on-exec. Output is not processed
/// (no OPOST): the log holds the bytes the program wrote. False with errno.
bool open_terminal(const char* size, int fds[2]) {
  unsigned cols = 0, rows = 0;
  if (sscanf(size, "%ux%u", &cols, &rows) != 2 || cols == 0 || rows == 0 || cols > 65535 ||
      rows > 65535) {
    errno = EINVAL;
    return false;
  }
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return false;
  char name[128];
  int slave = -1;
  if (::grantpt(master) == 0 && ::unlockpt(master) == 0 &&
      ::ptsname_r(master, name, sizeof name) == 0)
    slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios mode {};
  if (slave < 0 || ::tcgetattr(slave, &mode) != 0) {
    int err = errno;
    ::close(master);
    if (slave >= 0) ::close(slave);
    errno = err;
    return false;
  }
  mode.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  ::tcsetattr(slave, TCSANOW, &mode);
  struct winsize window {};
  window.ws_col = static_cast<unsigned short>(cols);
  window.ws_row = static_cast<unsigned short>(rows);
  ::ioctl(slave, TIOCSWINSZ, &window);
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  fds[0] = master;
  fds[1] = slave;
  return true;
}

/// A close-on-exec signalfd for `sig`, which is blocked from now on; -1 if none.
int signal_fd(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  return ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/// Relays until the program `pid` ended (or, should its outputs end first, waits for it).
/// Its status stays to be reaped (WNOWAIT).
bool relay_until_exit(Relay& relay, int sigchld_fd, pid_t pid, siginfo_t& info) {
  for (;;) {
    if (sigchld_fd >= 0 && relay_until(relay, sigchld_fd)) {
      struct signalfd_siginfo si;
      while (::read(sigchld_fd, &si, sizeof si) > 0) {
      }
      info = siginfo_t{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 &&
          info.si_pid == pid)
        return true;
      continue;  // another child's signal, or a stop
    }
    if (sigchld_fd < 0) relay_until(relay, -1);  // no signalfd: relay until the outputs end
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
}

/// Forks the relay that goes on after the waiter for stragglers (protocol.hpp); its pid,
/// or -1 if it could not be forked (the pipes close with the waiter: stragglers get EPIPE).
pid_t fork_straggler_relay(Relay& relay) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &term,
                nullptr);  // a SIGTERM sent at once waits for the relay's signalfd
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(kReportFd);  // sbxd learns the waiter's end: it must not wait for the relay's
  ::signal(SIGTERM, SIG_DFL);
  int stop = ::signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
  relay_until(relay, stop);
  relay_drain(relay);  // told to stop: what is in the pipes is the last
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], kSpareArg) == 0) {
    make_pool_files(argv[2]);
    static Spec spec;  // lives as long as the waiter (and is reachable to a leak checker)
    if (!receive_spec(spec)) return 0;  // not needed after all
    argc = spec.argc;
    argv = spec.argv;
    environ = spec.envp;
  }
  if (argc <= kArgArgv0) {
    const char* usage = "sbx-shim: started by sbxd, not by hand\n";
    write_all(2, usage, strlen(usage));
    return 2;
  }
  const char* exit_file = argv[kArgExitFile];
  const char* cwd = argv[kArgCwd];
  const char* run_env = argv[kArgRunEnv];
  const char* fd_limit = argv[kArgFdLimit];
  const char* tty = argv[kArgTty];
  const char* cgroup = argv[kArgCgroup];
  bool use_tty = strcmp(tty, kNoTty) != 0;
  const char* user = argv[kArgUser];
  const char* program = argv[kArgProgram];
  char** child_argv = argv + kArgArgv0;

  Relay relay;
  relay.next_seq = strtoull(argv[kArgNextSeq], nullptr, 10);
  relay.streams[0] = {-1, kStdoutLogFd, strtoull(argv[kArgStdoutEnd], nullptr, 10), 1};
  relay.streams[1] = {-1, kStderrLogFd, strtoull(argv[kArgStderrEnd], nullptr, 10), 2};
  // Checked before this process opens anything that could take the number.
  relay.index = ::fcntl(kIndexFd, F_GETFD) >= 0 ? kIndexFd : -1;
  static const int kLogFds[] = {kStdoutLogFd, kStderrLogFd, kIndexFd};
  for (int fd : kLogFds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);

  // Built before the fork: the child may only make async-signal-safe calls.
  size_t n_env = 0;
  while (environ[n_env]) ++n_env;
  char** child_env = static_cast<char**>(calloc(n_env + 2, sizeof(char*)));
  char line[kLineMax];
  if (!child_env) {
    format_err(line, sizeof line, Stage::exec, ENOMEM);
    report(line);
    return 1;
  }
  memcpy(child_env, environ, n_env * sizeof(char*));
  if (*run_env) child_env[n_env] = const_cast<char*>(run_env);
  struct rlimit nofile {};
  bool set_nofile = strcmp(fd_limit, kKeepFdLimit) != 0 && ::getrlimit(RLIMIT_NOFILE, &nofile) == 0;
  if (set_nofile) {
    rlim_t soft = strtoull(fd_limit, nullptr, 10);
    nofile.rlim_cur = soft < nofile.rlim_max ? soft : nofile.rlim_max;
  }

  Credentials as{};
  bool set_user = strcmp(user, kSameUser) != 0;
  if (set_user) {
    // The kernel takes at most NGROUPS_MAX; untouched pages of this buffer cost nothing, and
    // it lives as long as the waiter (the program's until its exec), so nothing is freed.
    static gid_t groups[NGROUPS_MAX];
    unsigned uid = 0, gid = 0;
    static_assert(sizeof(gid_t) == sizeof(unsigned));
    if (user_group_count(user) > NGROUPS_MAX ||
        !parse_user(user, uid, gid, reinterpret_cast<unsigned*>(groups), NGROUPS_MAX, as.ngroups)) {
      format_err(line, sizeof line, Stage::user, EINVAL);
      report(line);
      free(child_env);
      return 1;
    }
    as.uid = uid;
    as.gid = gid;
    as.groups = groups;
  }

  // The waiter waits; only SIGKILL ends it early. Signals for the program go to its group.
  static const int kIgnored[] = {SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2};
  for (int sig : kIgnored) ::signal(sig, SIG_IGN);

  int err_pipe[2], out_pipe[2], errout_pipe[2];
  static char relay_buf[kChunkMax];  // untouched pages cost nothing
  relay.buf = relay_buf;
  // A socket, not a pipe: the end of a pipe wakes its reader as a "sync" wakeup, which puts
  // the waiter behind the program on its CPU, until the program sleeps or exits.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err_pipe) != 0 ||
      !(use_tty ? open_terminal(tty, out_pipe) : open_relay_pipe(out_pipe)) ||
      !open_relay_pipe(errout_pipe)) {
    format_err(line, sizeof line, Stage::exec, errno);
    report(line);
    free(child_env);
    return 1;
  }
  // Opened by the waiter; only the program enters the cgroup (fork_program.hpp).
  CgroupFds cgroup_fds;
  if (strcmp(cgroup, kNoCgroup) != 0) {
    cgroup_fds.dir = ::open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fds.dir >= 0)
      cgroup_fds.procs = ::openat(cgroup_fds.dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (cgroup_fds.procs < 0) {
      format_err(line, sizeof line, Stage::cgroup, errno);
      report(line);
      free(child_env);
      return 1;
    }
  }
  char go = 0;
  ssize_t got;
  do {
    got = ::read(kReportFd, &go, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1 || go != kGo) {  // sbxd has no record of this run: start nothing
    free(child_env);
    return 0;
  }
  int sigchld_fd = signal_fd(SIGCHLD);  // blocked before the fork: its exit cannot be missed
  bool must_move = false;
  pid_t pid = fork_program(cgroup_fds, &must_move);
  if (pid == 0) {
    exec_child(err_pipe[1], kReportFd, out_pipe[1], use_tty, errout_pipe[1],
               must_move ? cgroup_fds.procs : -1, cwd, set_nofile ? &nofile : nullptr,
               set_user ? &as : nullptr, program, child_argv,
               child_env);  // never returns
  }
  int fork_errno = errno;
  free(child_env);
  if (cgroup_fds.dir >= 0) ::close(cgroup_fds.dir);
  if (cgroup_fds.procs >= 0) ::close(cgroup_fds.procs);
  if (pid < 0) {
    bool cgroup_refused = cgroup_fds.dir >= 0 && !must_move;
    format_err(line, sizeof line, cgroup_refused ? Stage::cgroup : Stage::exec, fork_errno);
    report(line);
    return 1;
  }

  ::close(err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(errout_pipe[1]);
  relay.streams[0].in = out_pipe[0];
  relay.streams[1].in = errout_pipe[0];
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {  // the child could not exec: nothing to wait for
    format_err(line, sizeof line, failure.stage, failure.error);
    report(line);
    ::waitpid(pid, nullptr, 0);
    return 0;
  }
  format_ok(line, sizeof line, static_cast<int>(pid));
  report(line);

  siginfo_t info{};
  if (!relay_until_exit(relay, sigchld_fd, pid, info)) return 1;
  // Before the status: once sbxd learns of the exit, all the program wrote is in the logs.
  relay_drain(relay);
  int status = wait_status(info);
  char end[2 * kLineMax];
  int n_end = format_exit(end, sizeof end, status);
  if (!relay_done(relay)) {
    pid_t relay_pid = fork_straggler_relay(relay);
    if (relay_pid > 0)
      format_relay(end + n_end, sizeof end - static_cast<size_t>(n_end),
                   static_cast<int>(relay_pid));
  }
  report(end);  // one write: sbxd reads the whole end at once (SIGPIPE is ignored)
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  hand_over_status(exit_file, status);
  return 0;
}
