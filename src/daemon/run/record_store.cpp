#include "daemon/run/record_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"

namespace sbx::daemon {

namespace {
constexpr Millis kSaveRetry{1000};  ///< how often an unsaved record is tried again
/// The most final records one group commit takes: the loop serves its clients (the reply of
/// a `kill --all` of a thousand, say) between two.
constexpr std::size_t kCommitBatch = 64;

/// `content` in `path`, created or emptied, not synced.
Status write_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(Errc::failed, "cannot create " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(path.c_str());
      return make_error(Errc::failed, "cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return ok_status();
}
}  // namespace

RecordStore::RecordStore(const Paths& paths, Timers& timers, CurrentFn current)
    : paths_(paths), timers_(timers), current_(std::move(current)) {}

RecordStore::~RecordStore() { commit(SIZE_MAX); }

/// Every record is replaced atomically. Only a final record is also fsync'd: a starting
/// or running process dies with the machine, so a power loss cannot make that record more
/// wrong than the next start-up will find it (it marks the process ended); an exit code,
/// once known, must survive. This keeps fsync off `start`'s path.
/// The waiter's exit file is removed once a final record holds its status, not before:
/// until then it is what the next sbxd learns the status from.
Status RecordStore::save(const ProcessRecord& r) {
  std::string path = paths_.record_path(r.id);
  Status st = ok_status();
  if (r.ended()) {
    st = write_file(path + ".tmp", record_to_toml(r));
    if (st) {
      uncommitted_.insert(r.id);
      if (!commit_.pending()) commit_ = timers_.start(Millis(0), [this] { commit(kCommitBatch); });
    }
  } else {
    uncommitted_.erase(r.id);  // replaced by this one
    st = write_file_atomic(path, record_to_toml(r), false);
  }
  if (st) {
    unsaved_.erase(r.id);
    return st;
  }
  spdlog::error("record {} not saved: {}; the previous one stays until it can be", r.id,
                st.error().message);
  unsaved_.insert(r.id);
  if (!retry_.pending()) retry_ = timers_.start(kSaveRetry, [this] { retry(); });
  return st;
}

void RecordStore::commit(std::size_t most) {
  commit_.cancel();
  if (uncommitted_.empty()) return;
  std::vector<std::string> ids;
  while (!uncommitted_.empty() && ids.size() < most)
    ids.push_back(uncommitted_.extract(uncommitted_.begin()).value());
  if (!uncommitted_.empty()) commit_ = timers_.start(Millis(0), [this] { commit(kCommitBatch); });
  // Every fsync before any rename: a rename adds to the journal, and the next fsync would
  // commit again.
  std::vector<std::string> synced;
  auto failed = [this](const std::string& id) {
    spdlog::error("record {} not saved: {}; the previous one stays until it can be", id,
                  std::strerror(errno));
    unsaved_.insert(id);
    if (!retry_.pending()) retry_ = timers_.start(kSaveRetry, [this] { retry(); });
  };
  for (const auto& id : ids) {
    int fd = ::open((paths_.record_path(id) + ".tmp").c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (ok)
      synced.push_back(id);
    else
      failed(id);
  }
  std::erase_if(synced, [&](const std::string& id) {
    std::string path = paths_.record_path(id);
    if (::rename((path + ".tmp").c_str(), path.c_str()) == 0) return false;
    failed(id);
    return true;
  });
  if (synced.empty()) return;
  int dir = ::open(paths_.processes_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  for (const auto& id : synced) ::unlink(paths_.exit_path(id).c_str());
}

Status RecordStore::save_once(const ProcessRecord& r) {
  uncommitted_.erase(r.id);  // replaced by this one
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
  uncommitted_.erase(id);
  ::unlink((paths_.record_path(id) + ".tmp").c_str());
  ::unlink(paths_.record_path(id).c_str());
  ::unlink(paths_.log_path(id, false).c_str());
  ::unlink(paths_.log_path(id, true).c_str());
  ::unlink(paths_.index_path(id).c_str());
  ::unlink(paths_.exit_path(id).c_str());
}

}  // namespace sbx::daemon
