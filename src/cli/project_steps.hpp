#pragma once
// The steps sbx up and sbx down are made of, each one request (or a few) to the daemon.

#include <optional>
#include <string>

#include "common/duration.hpp"
#include "common/project.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "proto/requests_start.hpp"

namespace sbx::cli {

class Progress;

/// The session of the commands of `ready = { exec = ... }`: PROJECT.ready, apart from the
/// project's own processes (down, ps --session and the output of --exit-from skip them).
inline constexpr const char* kProbeSessionSuffix = ".ready";

/// While `status` is set, the live status line of `up` on a terminal: each progress line
/// erases it, each tick draws it again saying what `up` still waits for.
void set_status(Progress* status);
void tick_status(const std::string& waiting_for);

/// The record of `id`, none if there is no such process.
Result<std::optional<ProcessRecord>> find_record(const std::string& id);
/// Waits until `id` ends (at most `limit`): its final record.
Result<ProcessRecord> wait_for_end(const std::string& id, std::optional<Millis> limit);
/// "exit 3", "killed by SIGTERM", "could not start: ...".
std::string ended_how(const ProcessRecord& r);
/// Waits until `d` is ready as its `ready` table says (at once without one): ok, or a
/// failed (it ended first) or timeout error.
Status wait_until_ready(const Project& p, const ProcessDef& d, const proto::StartRequest& req,
                        Millis limit);

}  // namespace sbx::cli
