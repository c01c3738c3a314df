#pragma once
// The records on disk: STATE/processes/ID.toml, one per process, with the waiter's exit
// file beside it and its logs.

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

  /// Writes the record; a record that cannot be written (a full disk) is kept in memory,
  /// reported, and written again every kSaveRetry until it is. Returns the first error.
  Status save(const ProcessRecord& r);
  /// Writes it once, without retrying: on an error the record on disk stays as it was.
  Status save_once(const ProcessRecord& r);
  /// Removes its record, its logs and its exit file.
  void remove(const std::string& id);

 private:
  void retry();
  const Paths& paths_;
  Timers& timers_;
  CurrentFn current_;
  std::set<std::string> unsaved_;  ///< ids whose record on disk is behind
  Timers::Timer retry_;
};

}  // namespace sbx::daemon
