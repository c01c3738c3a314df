#pragma once
// The records on disk: STATE/processes/ID.toml, one per process, beside its logs (and the
// exit file a waiter writes when no sbxd held its status).

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/paths.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/run/file_pool.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

class RecordStore {
 public:
  /// `current(id)`: the record in memory now, or null once it is forgotten.
  using CurrentFn = std::function<const ProcessRecord*(const std::string& id)>;
  /// `durable(id, true)`: the final record of `id` is durable, its exit status with it;
  /// `durable(id, false)`: it could not be made durable (fsync failed).
  using DurableFn = std::function<void(const std::string& id, bool durable)>;
  RecordStore(const Paths& paths, Timers& timers, CurrentFn current, DurableFn durable);

  /// Writes the record; a record that cannot be written (a full disk) is kept in memory,
  /// reported, and written again every kSaveRetry until it is. Returns the first error.
  /// A final record is made durable soon after (sync_soon), not before this returns.
  Status save(const ProcessRecord& r);
  /// Writes it once, without retrying: on an error the record on disk stays as it was.
  Status save_once(const ProcessRecord& r);
  /// Where a new record's files come from (its logs: the Launcher's).
  FilePool& pool() { return pool_; }
  /// Removes its record, its logs and its exit file.
  void remove(const std::string& id);
  /// Makes every final record written so far durable now (at shutdown).
  void sync_now();
  /// A final record read at start-up whose exit file is still there (the daemon before
  /// ended before its fsync): made durable soon (then `durable` is called).
  void adopt_final(const std::string& id);

 private:
  /// The record's file replaced (its first spares from the pool).
  Status write(const ProcessRecord& r);
  void retry();
  void sync_soon(const std::string& id);
  void sync_next();
  void synced_all();
  /// True if `id`'s final record is the one on disk (nothing newer waits to be written).
  bool final_on_disk(const std::string& id) const;
  const Paths& paths_;
  Timers& timers_;
  CurrentFn current_;
  DurableFn durable_;
  FilePool pool_;
  std::set<std::string> unsaved_;    ///< ids whose record on disk is behind
  std::set<std::string> unsynced_;   ///< final records written but not yet fsync'd
  std::vector<std::string> synced_;  ///< fsync'd this round; their folder entry is next
  Timers::Timer retry_;
  Timers::Timer sync_;
};

}  // namespace sbx::daemon
