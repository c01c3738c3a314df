#pragma once
// The process record: one per process, persisted as STATE/processes/ID.toml and sent as
// JSON with the same keys (README "Files", sbx(1) THE RECORD). Only record_toml.cpp knows TOML and
// only record_json.cpp knows JSON.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/defaults.hpp"
#include "common/result.hpp"

namespace sbx {

enum class ProcStatus { starting, running, completed, failed, killed, error };

const char* status_name(ProcStatus s);
std::optional<ProcStatus> parse_status(std::string_view s);
/// True for the final statuses: completed, failed, killed, error.
bool is_ended(ProcStatus s);
/// A status filter of `ps --status`: a status word, "live" (starting or running) or
/// "ended" (any other); nullopt for anything else.
std::optional<std::vector<ProcStatus>> parse_status_filter(std::string_view word);

/// Bump when a key changes meaning; readers ignore keys they do not know.
inline constexpr int kRecordSchemaVersion = 1;

struct ProcessRecord {
  std::string id;
  std::string command;            ///< what the user asked for, as a display line
  std::vector<std::string> argv;  ///< what was exec'd
  std::string cwd;
  std::map<std::string, std::string> env;  ///< the overrides only
  std::string session = "default";
  std::optional<int> pid;                        ///< absent while starting and after error
  std::optional<std::uint64_t> pid_start_ticks;  ///< /proc/PID/stat field 22, against pid reuse
  std::string run_token;                         ///< SBX_RUN_TOKEN of the current run (internal)
  std::optional<int> waiter_pid;                 ///< the sbx-shim that waits for it (internal)
  std::optional<std::uint64_t> waiter_start_ticks;
  /// The relay the last run's waiter left for stragglers (shim/protocol.hpp), stopped
  /// before the next run writes the same log (internal).
  std::optional<int> relay_pid;
  std::optional<std::uint64_t> relay_start_ticks;
  std::string boot_id;  ///< the boot the run started in: start ticks are per boot (internal)
  ProcStatus status = ProcStatus::starting;
  std::optional<EpochMs> start_time;
  std::optional<EpochMs> end_time;
  std::optional<int> exit_code;       ///< set when it exited
  std::optional<std::string> signal;  ///< "SIGTERM" when a signal ended it
  std::optional<std::string> error;   ///< why it could not start (status error)
  std::optional<std::string> reason;  ///< why sbx ended it on request: "kill", "timeout", "stop"
  std::optional<std::int64_t> timeout_ms;
  bool auto_cleanup = false;
  std::string restart = "no";       ///< no | on-failure | always
  std::optional<int> max_restarts;  ///< absent: no limit
  int restarts = 0;
  std::int64_t log_max = kDefaultLogMax;  ///< per stream, bytes; 0: unbounded
  std::int64_t dropped_stdout = 0;        ///< oldest bytes dropped to keep within log_max
  std::int64_t dropped_stderr = 0;
  /// Of the dropped bytes, those cut out of the file by collapsing it (internal): the bytes
  /// after the cut moved down by this much, so a logical offset (bytes the stream ever
  /// held, which clients resume from) is the file offset plus this. Punched holes keep
  /// their offsets and are not counted here.
  std::int64_t collapsed_stdout = 0;
  std::int64_t collapsed_stderr = 0;
  bool tty = false;      ///< its stdout is a pseudo-terminal (--tty)
  std::string tty_size;  ///< with tty: the window, "COLSxROWS"
  /// What `sbx up` started it from: a digest of its definition in the project file (the
  /// session is the project). Empty for a process started otherwise.
  std::string definition;
  /// Who the program runs as (`start --user`): "USER" or "USER:GROUP" as given, names or
  /// numbers; empty: as sbxd.
  std::string user;
  /// The cgroup v2 directory of its current (or last) run, where sbxd gave it one; its tree
  /// is then exactly the processes in it. Empty: its tree is found by run token.
  std::string cgroup;
  std::optional<std::int64_t> memory_max;  ///< bytes (--memory-max): its cgroup's memory.max
  std::optional<std::int64_t> pids_max;    ///< --pids-max: pids.max
  std::optional<std::int64_t> cpu_max;     ///< percent of one core (--cpu-max): cpu.max

  bool ended() const { return is_ended(status); }
  /// How its tree is known: "cgroup" or "token".
  const char* tree() const { return cgroup.empty() ? "token" : "cgroup"; }
};

/// The code `sbx wait` exits with for an ended record: the exit code, 128+N for
/// signal N, 127 for a process that could not start (as a shell does).
int wait_exit_code(const ProcessRecord& r);

/// `file`: the record file, pure ASCII; a byte string that is not UTF-8 is the inline
/// table { base64 = "..." }. `display`: the same for `show`, but such a string is a
/// TOML string whose other bytes read \xNN (no file: record_from_toml refuses it).
enum class TomlView { file, display };
std::string record_to_toml(const ProcessRecord& r, TomlView view = TomlView::file);
Result<ProcessRecord> record_from_toml(std::string_view text);

}  // namespace sbx
