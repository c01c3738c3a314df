#pragma once
// What sbxd and a run's waiter (the sbx-shim program) say to each other; both sides use
// this header. libc only: the waiter includes it.
//
//   sbx-shim EXIT_FILE CWD RUN_ENV FD_LIMIT PROGRAM ARGV0 [ARG...]
//
// The program's environment is the waiter's plus RUN_ENV ("NAME=VALUE", the run's token).
// FD_LIMIT is the program's soft RLIMIT_NOFILE (sbxd runs with a raised one), or "-".
// Only the program and what it starts carry the token: a tree kill that finds processes by
// it must never find the waiter (nor any helper the waiter itself clones).
//
// fd 0, 1, 2: the program's stdin, stdout and stderr. fd 3 (kReportFd): a socket to sbxd:
//   sbxd -> waiter  "g" (kGo) once sbxd has recorded this waiter's pid: only then is PROGRAM
//                   started. End of file instead (sbxd died, or could not write the
//                   record): the waiter exits 0 and starts nothing.
//   waiter -> sbxd  "ok PID\n" once PROGRAM was exec'd, or "err chdir|exec ERRNO\n";
//                   then, when PROGRAM ends, "exit STATUS\n" with its raw wait status.
// The status also goes to EXIT_FILE (atomically, fsync'd), which outlives the socket when
// sbxd is restarted; the socket covers a disk too full for the file. The program is reaped
// only after both: until then its pid and process group cannot be reused, so a signal
// sbxd sends for it meanwhile reaches it or its zombie, never a stranger. Then the waiter
// exits 0. The program leads its own session and process group.

#include <stddef.h>
#include <stdio.h>
#include <string.h>

namespace sbx::waiter {

/// Positions on the waiter's command line; the program's argv follows from kArgArgv0 on.
enum Arg { kArgExitFile = 1, kArgCwd, kArgRunEnv, kArgFdLimit, kArgProgram, kArgArgv0 };

inline constexpr int kReportFd = 3;
inline constexpr char kGo = 'g';
inline constexpr const char* kKeepFdLimit = "-";  ///< FD_LIMIT: the program keeps the waiter's
inline constexpr size_t kLineMax = 64;            ///< a report line and its NUL fit in this

enum class Stage { chdir, exec };
inline const char* stage_name(Stage s) { return s == Stage::chdir ? "chdir" : "exec"; }

// The waiter's lines; each returns its length, as snprintf does.
inline int format_ok(char* buf, size_t n, int pid) { return snprintf(buf, n, "ok %d\n", pid); }
inline int format_err(char* buf, size_t n, Stage stage, int err) {
  return snprintf(buf, n, "err %s %d\n", stage_name(stage), err);
}
inline int format_exit(char* buf, size_t n, int wait_status) {
  return snprintf(buf, n, "exit %d\n", wait_status);
}

// Reading them (sbxd): a line with or without its newline.
inline bool parse_ok(const char* line, int& pid) {
  return sscanf(line, "ok %d", &pid) == 1 && pid > 1;
}
inline bool parse_err(const char* line, Stage& stage, int& err) {
  char name[16] = {};
  if (sscanf(line, "err %15s %d", name, &err) != 2) return false;
  stage = strcmp(name, "chdir") == 0 ? Stage::chdir : Stage::exec;
  return true;
}
inline bool is_err(const char* line) { return strncmp(line, "err ", 4) == 0; }
inline bool parse_exit(const char* text, int& wait_status) {
  return sscanf(text, "exit %d", &wait_status) == 1;
}

}  // namespace sbx::waiter
