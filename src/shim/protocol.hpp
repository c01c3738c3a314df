#pragma once
// What sbxd and a run's waiter (the sbx-shim program) say to each other; both sides use
// this header. libc only: the waiter includes it.
//
//   sbx-shim EXIT_FILE CWD RUN_ENV FD_LIMIT NEXT_SEQ STDOUT_END STDERR_END TTY CGROUP USER
//   PROGRAM ARGV0 [ARG...]
//   ARGV0 [ARG...]
//
// The program's environment is the waiter's plus RUN_ENV ("NAME=VALUE", the run's token).
// FD_LIMIT is the program's soft RLIMIT_NOFILE (sbxd runs with a raised one), or "-".
// Only the program and what it starts carry the token: a tree kill that finds processes by
// it must never find the waiter (nor any helper the waiter itself clones).
//
// NEXT_SEQ, STDOUT_END, STDERR_END (decimal) say where this run's output goes on in the
// record's log (common/log_index.hpp): the seq of its first index entry, and the logical
// end of each stream (the bytes it ever held, counting what caps cut). A first run: 1 0 0.
// TTY is "-" (kNoTty), or "COLSxROWS": the program's stdout is then a pseudo-terminal of
// that window, its controlling terminal, without output processing (no CR is added); the
// waiter reads its master side as it reads a pipe, and EIO there means its end.
// CGROUP is "-" (kNoCgroup), or a cgroup v2 directory: the program is born in it (or, on a
// kernel before 5.7, moves itself into it before the exec), so everything it starts is born
// there; the waiter stays where it is;
// when it cannot, the program is not started ("err cgroup ERRNO").
// USER is "-" (kSameUser), or "UID:GID:GROUPS" (GROUPS: decimal gids, comma-separated, maybe
// none), resolved by sbxd (never looked up after the fork): the program alone (the waiter
// stays the daemon's user, and so do the logs it writes) sets its supplementary groups,
// then its gid, then its uid before the exec; a failure is reported as "err user ERRNO".
//
// fd 0: the program's stdin. fd 1, 2 (kStdoutLogFd, kStderrLogFd): ID.stdout and
// ID.stderr, fd 4 (kIndexFd): ID.index, all three opened O_APPEND by sbxd. The program's
// stdout and stderr are pipes to the waiter, which relays them (see relay.hpp): it appends
// each chunk it reads to its log, then the chunk's index entry to ID.index. A waiter
// without fd 4 relays without an index. fd 3 (kReportFd): a socket to sbxd:
//   sbxd -> waiter  "g" (kGo) once sbxd has recorded this waiter's pid: only then is PROGRAM
//                   started. End of file instead (sbxd died, or could not write the
//                   record): the waiter exits 0 and starts nothing.
//   waiter -> sbxd  "ok PID\n" once PROGRAM was exec'd, or "err chdir|exec ERRNO\n";
//                   then, when PROGRAM ends and what it wrote before is relayed (the pipes
//                   read up to EAGAIN or end of file), "exit STATUS\n" with its raw wait
//                   status, and "relay PID\n" if something still holds a pipe open, in one
//                   write.
//   sbxd -> waiter  "h" (kHeld) once a durable record holds that status (fsync'd), or the
//                   record no longer needs it (a new run of the record, or its removal).
// The program is reaped only after its status was reported: until then its pid and
// process group cannot be reused, so a signal sbxd sends for it meanwhile reaches it or its
// zombie, never a stranger. Then the waiter waits for "h" and exits 0. End of file instead
// (sbxd died or was restarted before its record was durable, or could not fsync it): the
// waiter writes the status to EXIT_FILE (atomically, fsync'd; tried again every second
// while the disk is full), which the next sbxd reads, and exits 0. So a run that ends
// under a live sbxd costs no file of its own. The program leads its own session and
// process group.
//
// A spare waiter, `sbx-shim --spare POOL` (kSpareArg): sbxd starts one ahead of the next
// run, so that a start does not wait for sbx-shim's exec. It has fd 3 as above, /dev/null
// on 0-2, and no environment (but a sanitizer's *SAN_OPTIONS). Before it waits it makes
// kSpareFiles empty files in the folder POOL (none if POOL is "-", kNoPool), named by
// format_spare_file, for sbxd's pool (daemon/run/file_pool.hpp; one that exists or cannot
// be made is skipped, and none once its run is there). The first thing it reads on fd 3 is
// its run: a SpecHeader carrying the descriptors for its fds 0, 1, 2 and 4 (SCM_RIGHTS, in
// that order), then header.bytes of NUL-terminated strings, header.argc of them the command
// line above (from sbx-shim on), header.envc the environment. From then on it is the waiter
// that command line would have started ("g", the reports, "h"), though ps still shows it as
// `sbx-shim --spare`; sbxd sends the spec as soon as it has the run, so the spare makes
// ready while sbxd records the run with its pid, and the "g" once that is done. End of
// file, or a spec that is not whole, instead: it exits 0, having started nothing.
//
// Stragglers (a daemonized grandchild that holds a pipe open) may write after the program
// ended: a relay process the waiter forks goes on appending (and indexing) what they write,
// until end of file on both pipes; the waiter itself ends with the program, as sbxd expects.
// SIGTERM tells a relay to stop (sbxd sends it before the record's next run, whose waiter
// goes on with the same log): it relays what is in the pipes and exits, closing them.

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace sbx::waiter {

/// Positions on the waiter's command line; the program's argv follows from kArgArgv0 on.
enum Arg {
  kArgExitFile = 1,
  kArgCwd,
  kArgRunEnv,
  kArgFdLimit,
  kArgNextSeq,
  kArgStdoutEnd,
  kArgStderrEnd,
  kArgTty,
  kArgCgroup,
  kArgUser,
  kArgProgram,
  kArgArgv0
};

inline constexpr int kStdoutLogFd = 1;
inline constexpr int kStderrLogFd = 2;
inline constexpr int kReportFd = 3;
inline constexpr int kIndexFd = 4;
inline constexpr char kGo = 'g';
inline constexpr char kHeld = 'h';
inline constexpr const char* kKeepFdLimit = "-";  ///< FD_LIMIT: the program keeps the waiter's
inline constexpr const char* kNoTty = "-";        ///< TTY: stdout is a pipe
inline constexpr const char* kNoCgroup = "-";     ///< CGROUP: the program stays in the waiter's
inline constexpr const char* kSameUser = "-";     ///< USER: the program runs as the waiter
inline constexpr size_t kLineMax = 64;            ///< a report line and its NUL fit in this

inline constexpr const char* kSpareArg = "--spare";
inline constexpr const char* kNoPool = "-";         ///< POOL: the spare makes no files
inline constexpr unsigned kSpecMagic = 0x31584253;  ///< "SBX1"
inline constexpr size_t kSpecMax = 64 * 1024;       ///< a longer run gets a waiter of its own
inline constexpr int kSpecFds[] = {0, kStdoutLogFd, kStderrLogFd, kIndexFd};
/// What a start of a new id would create: three logs, and the two files its record is
/// first written through (atomic_spare_path).
inline constexpr int kSpareFiles = 5;
inline int format_spare_file(char* buf, size_t n, int pid, int k) {
  return snprintf(buf, n, "%d.%d", pid, k);
}
struct SpecHeader {
  unsigned magic;
  unsigned bytes;  ///< of the strings that follow
  unsigned argc;
  unsigned envc;
};

enum class Stage { chdir, exec, user, cgroup };
inline const char* stage_name(Stage s) {
  return s == Stage::chdir    ? "chdir"
         : s == Stage::user   ? "user"
         : s == Stage::cgroup ? "cgroup"
                              : "exec";
}

// The waiter's lines; each returns its length, as snprintf does.
inline int format_ok(char* buf, size_t n, int pid) { return snprintf(buf, n, "ok %d\n", pid); }
inline int format_err(char* buf, size_t n, Stage stage, int err) {
  return snprintf(buf, n, "err %s %d\n", stage_name(stage), err);
}
inline int format_exit(char* buf, size_t n, int wait_status) {
  return snprintf(buf, n, "exit %d\n", wait_status);
}

inline int format_relay(char* buf, size_t n, int pid) {
  return snprintf(buf, n, "relay %d\n", pid);
}

// Reading them (sbxd): a line with or without its newline.
inline bool parse_ok(const char* line, int& pid) {
  return sscanf(line, "ok %d", &pid) == 1 && pid > 1;
}
inline bool parse_err(const char* line, Stage& stage, int& err) {
  char name[16] = {};
  if (sscanf(line, "err %15s %d", name, &err) != 2) return false;
  stage = strcmp(name, "chdir") == 0    ? Stage::chdir
          : strcmp(name, "user") == 0   ? Stage::user
          : strcmp(name, "cgroup") == 0 ? Stage::cgroup
                                        : Stage::exec;
  return true;
}
inline bool is_err(const char* line) { return strncmp(line, "err ", 4) == 0; }
inline bool parse_exit(const char* text, int& wait_status) {
  return sscanf(text, "exit %d", &wait_status) == 1;
}
/// The relay's pid in what followed the first line ("exit STATUS\nrelay PID\n").
inline bool parse_relay(const char* text, int& pid) {
  const char* line = strstr(text, "\nrelay ");
  return line && sscanf(line + 1, "relay %d", &pid) == 1 && pid > 1;
}

/// Reads USER ("UID:GID:G1,G2,..."): false if it is malformed or has more than `max_groups`
/// groups. How many groups it has, to size `groups`: user_group_count.
inline size_t user_group_count(const char* text) {
  const char* groups = strrchr(text, ':');
  if (!groups || !groups[1]) return 0;
  size_t n = 1;
  for (const char* p = groups + 1; *p; ++p) n += *p == ',';
  return n;
}
inline bool parse_user(const char* text, unsigned& uid, unsigned& gid, unsigned* groups,
                       size_t max_groups, size_t& ngroups) {
  char* end = nullptr;
  auto number = [&end](const char* p, unsigned& out) {
    if (*p < '0' || *p > '9') return false;
    unsigned long v = strtoul(p, &end, 10);
    out = static_cast<unsigned>(v);
    return v <= 0xfffffffeUL;  // (uid_t)-1 means "unchanged" to setuid(2)
  };
  if (!number(text, uid) || *end != ':' || !number(end + 1, gid) || *end != ':') return false;
  ngroups = 0;
  const char* p = end + 1;
  if (!*p) return true;
  for (;;) {
    if (ngroups == max_groups || !number(p, groups[ngroups])) return false;
    ++ngroups;
    if (!*end) return true;
    if (*end != ',') return false;
    p = end + 1;
  }
}

}  // namespace sbx::waiter
