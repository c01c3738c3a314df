#pragma once
// The records on disk: STATE/processes/ID.toml, one per process, with the waiter's exit
// file beside it and its logs.

#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include "common/paths.hpp"
#include "common/record.hpp"
#include "common/result.hpp"
#include "daemon/timers.hpp"

namespace sbx::daemon {

class RecordStore {
 public:
  /// `current(id)`: the record in memory now, or null once it is forgotten.
  using CurrentFn = std::function<const ProcessRecord*(const std::string& id)>;
  RecordStore(const Paths& paths, Timers& timers, CurrentFn current);
  /// Makes the final records still pending durable.
  ~RecordStore();

  /// Writes the record; a record that cannot be written (a full disk) is kept in memory,
  /// reported, and written again every kSaveRetry until it is. Returns the first error.
  /// A final record is written at once and made durable with every other final record
  /// saved in the same turn of the loop (group commit: one journal commit for a thousand
  /// ends, not one each); until then the one on disk is the last, and the waiter's exit
  /// file, which the next sbxd learns the status from, stays.
  Status save(const ProcessRecord& r);
  /// Writes it once, without retrying: on an error the record on disk stays as it was.
  Status save_once(const ProcessRecord& r);
  /// Removes its record, its logs and its exit file.
  void remove(const std::string& id);

 private:
  void retry();
  /// The group commit of (at most `most` of) the final records written since the last:
  /// fsync each (the first commits them all), rename each over its record, fsync the
  /// folder once, then remove their exit files. What is left is committed on the next turn.
  void commit(std::size_t most);
  std::set<std::string> uncommitted_;  ///< final records written to ID.toml.tmp only
  Timers::Timer commit_;
  const Paths& paths_;
  Timers& timers_;
  CurrentFn current_;
  std::set<std::string> unsaved_;  ///< ids whose record on disk is behind
  Timers::Timer retry_;
};

}  // namespace sbx::daemon
