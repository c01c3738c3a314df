#include "daemon/run/record_store.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kSaveRetry{1000};  ///< how often an unsaved record is tried again
/// How long a final record may wait for its fsync: the ones that end meanwhile share the
/// folder's fsync.
constexpr Millis kSyncDelay{250};
}  // namespace

RecordStore::RecordStore(const Paths& paths, Timers& timers, CurrentFn current, DurableFn durable)
    : paths_(paths),
      timers_(timers),
      current_(std::move(current)),
      durable_(std::move(durable)),
      pool_(paths.pool_dir) {}

/// Every record is replaced atomically. Only a final record is also fsync'd, and not on the
/// request's path: within kSyncDelay, one record per turn of the loop (a request waits for
/// one fsync at most), then the folder once for all of them. Until then the run's waiter
/// holds the status (it writes its exit file if sbxd goes first); `durable` tells the
/// supervisor, which lets the waiter go (or removes the exit file it left). A starting or
/// running record is never fsync'd: its process dies with the machine, so a power loss
/// cannot make that record more wrong than the next start-up will find it (it marks the
/// process ended).
Status RecordStore::write(const ProcessRecord& r) {
  return write_file_atomic(paths_.record_path(r.id), record_to_toml(r), false,
                           [this](const std::string& tmp) { pool_.place(tmp); });
}

Status RecordStore::save(const ProcessRecord& r) {
  auto st = write(r);
  if (st) {
    unsaved_.erase(r.id);
    if (r.ended()) sync_soon(r.id);
    return st;
  }
  spdlog::error("record {} not saved: {}; the previous one stays until it can be", r.id,
                st.error().message);
  unsaved_.insert(r.id);
  if (!retry_.pending()) retry_ = timers_.start(kSaveRetry, [this] { retry(); });
  return st;
}

void RecordStore::sync_soon(const std::string& id) {
  unsynced_.insert(id);
  if (!sync_.pending()) sync_ = timers_.start(kSyncDelay, [this] { sync_next(); });
}

bool RecordStore::final_on_disk(const std::string& id) const {
  const ProcessRecord* r = current_(id);
  return r && r->ended() && !unsaved_.contains(id);
}

void RecordStore::sync_next() {
  if (unsynced_.empty()) return synced_all();
  auto id = *unsynced_.begin();
  unsynced_.erase(unsynced_.begin());
  if (final_on_disk(id)) {
    if (sync_file(paths_.record_path(id))) {
      synced_.push_back(id);
    } else {
      spdlog::warn("record {}: fsync failed; its waiter's exit file keeps the status", id);
      durable_(id, false);
    }
  }
  sync_ = timers_.start(Millis{0}, [this] { sync_next(); });
}

void RecordStore::synced_all() {
  if (synced_.empty()) return;
  bool folder = sync_folder_of(paths_.record_path(synced_.front()));
  auto synced = std::move(synced_);
  synced_.clear();
  for (const auto& id : synced) {
    // Written again since (a restart that ended too): the next round syncs that one.
    if (!final_on_disk(id) || unsynced_.contains(id)) continue;
    if (!folder)
      spdlog::warn("record {}: fsync of its folder failed; its waiter's exit file keeps the status",
                   id);
    durable_(id, folder);
  }
}

void RecordStore::adopt_final(const std::string& id) {
  if (::access(paths_.exit_path(id).c_str(), F_OK) == 0) sync_soon(id);
}

void RecordStore::sync_now() {
  sync_.cancel();
  while (!unsynced_.empty()) {
    auto id = *unsynced_.begin();
    unsynced_.erase(unsynced_.begin());
    if (final_on_disk(id) && sync_file(paths_.record_path(id))) synced_.push_back(id);
  }
  synced_all();
}

Status RecordStore::save_once(const ProcessRecord& r) {
  auto st = write(r);
  if (!st) {
    ::unlink(atomic_spare_path(paths_.record_path(r.id)).c_str());
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
  ::unlink(atomic_spare_path(paths_.record_path(id)).c_str());  // the previous version
  ::unlink(paths_.log_path(id, false).c_str());
  ::unlink(paths_.log_path(id, true).c_str());
  ::unlink(paths_.index_path(id).c_str());
  ::unlink(paths_.exit_path(id).c_str());
  ::unlink(paths_.restart_env_path(id).c_str());
  ::unlink(atomic_spare_path(paths_.restart_env_path(id)).c_str());
}

}  // namespace sbx::daemon
