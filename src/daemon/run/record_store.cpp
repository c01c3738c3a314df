#include "daemon/run/record_store.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kSaveRetry{1000};  ///< how often an unsaved record is tried again
}  // namespace

RecordStore::RecordStore(const Paths& paths, Timers& timers, CurrentFn current)
    : paths_(paths), timers_(timers), current_(std::move(current)) {}

/// Every record is replaced atomically. Only a final record is also fsync'd: a starting
/// or running process dies with the machine, so a power loss cannot make that record more
/// wrong than the next start-up will find it (it marks the process ended); an exit code,
/// once known, must survive. This keeps fsync off `start`'s path.
/// The waiter's exit file is removed once a final record holds its status, not before:
/// until then it is what the next sbxd learns the status from.
Status RecordStore::save(const ProcessRecord& r) {
  auto st = write_file_atomic(paths_.record_path(r.id), record_to_toml(r), r.ended());
  if (st) {
    unsaved_.erase(r.id);
    if (r.ended()) ::unlink(paths_.exit_path(r.id).c_str());
    return st;
  }
  spdlog::error("record {} not saved: {}; the previous one stays until it can be", r.id,
                st.error().message);
  unsaved_.insert(r.id);
  if (!retry_.pending()) retry_ = timers_.start(kSaveRetry, [this] { retry(); });
  return st;
}

Status RecordStore::save_once(const ProcessRecord& r) {
  auto st = write_file_atomic(paths_.record_path(r.id), record_to_toml(r), false);
  if (!st) {
    ::unlink((paths_.record_path(r.id) + ".tmp").c_str());
    return st;
  }
  unsaved_.erase(r.id);
  return st;
}

void RecordStore::retry() {
  auto ids = unsaved_;
  for (const auto& id : ids) {
    if (const ProcessRecord* r = current_(id))
      save(*r);
    else
      unsaved_.erase(id);
  }
}

void RecordStore::remove(const std::string& id) {
  ::unlink(paths_.record_path(id).c_str());
  ::unlink(paths_.log_path(id, false).c_str());
  ::unlink(paths_.log_path(id, true).c_str());
  ::unlink(paths_.index_path(id).c_str());
  ::unlink(paths_.exit_path(id).c_str());
}

}  // namespace sbx::daemon
