#pragma once
// sbx up / sbx down: a project file's processes, started in the order of their
// dependencies and stopped in reverse (man/sbx.toml.5). Each step goes through the
// daemon's own requests (start, wait-log, wait-port, wait, logs, kill), so the daemon
// needs nothing of projects but the definition digest a record keeps.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/project.hpp"
#include "common/result.hpp"
#include "proto/requests_start.hpp"

namespace sbx::cli {

/// Reads `file` (empty: ./sbx.toml, else ./Procfile); `name`, if given, is the project.
Result<Project> load_project(const std::string& file, const std::string& name);
/// The start request of one process: its id is its name, its session the project, its
/// definition a digest of what the file asks (env_file read now).
Result<proto::StartRequest> start_request_for(const Project& p, const ProcessDef& d);

struct UpOptions {
  std::vector<std::string> names;                         ///< empty: every process
  std::optional<Millis> timeout;                          ///< --timeout: for the whole of `up`
  std::function<void(const std::string& id)> on_started;  ///< once each runs (or ran already)
  std::string exit_from;  ///< --exit-from: this one ending before all is up is no failure
};
/// Starts the processes and waits until each is ready: kExitOk, or the exit code after a
/// message that names what failed (its last lines printed).
Result<int> up_project(const Project& p, const UpOptions& o);
/// From now on `up` starts nothing more; returns once a start on its way was answered.
void stop_starting();
/// Stops every live process of `session`, the dependents of `p` (if known) first.
Result<int> down_project(const std::string& session, const Project* p, std::optional<Millis> grace);
/// Prints the output of every process of the project from its start, as `sbx logs -f
/// --session` does (merged in write order, each line after its id, padded to the longest
/// name), until every one ended; started once, the first call. Only the ids given to it
/// are followed (what this `up` started or left running), each from when it was given.
void follow_output(const Project& p, const std::string& id);
/// After up: prints every process's output, prefixed, until `name` ends; then down.
/// Returns `name`'s exit code (130 on SIGINT or SIGTERM, after down).
Result<int> run_exit_from(const Project& p, const std::string& name, std::optional<Millis> grace);

/// From now on SIGINT and SIGTERM stop the project (as down) and end sbx with 128+N.
void stop_project_on_signals(const Project& p, std::optional<Millis> grace);
/// A signal is stopping the project: what fails meanwhile is its doing, not to report.
bool interrupted();
/// Stops the project as down, once: after a signal did, it waits until sbx ends.
Result<int> teardown(const Project& p, std::optional<Millis> grace);

/// "NAME: ..." on stderr, one whole line (several threads print).
void progress_line(const std::string& line);
/// Output lines of the processes, whole, on fd 1 or 2.
void print_output(int fd, const std::string& lines);

}  // namespace sbx::cli
