#include "daemon/logs/cap.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/fd.hpp"

namespace sbx::daemon {

namespace {
constexpr off_t kBlock = 4096;
/// At most one check per interval per file: a flood costs ~100 stat calls a second, and
/// a file outgrows its cap by at most what is written in one interval.
constexpr Millis kCheckInterval{10};
}  // namespace

Result<Trimmed> trim_log_file(const std::string& path, std::int64_t cap) {
  struct stat quick {};
  if (cap <= 0 || (::stat(path.c_str(), &quick) == 0 && quick.st_size <= cap)) return Trimmed{};
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return make_error(Errc::failed, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(Errc::failed, "cannot stat " + path);
  off_t size = st.st_size;
  off_t data = ::lseek(fd.get(), 0, SEEK_DATA);  // past a hole punched earlier
  if (data < 0) data = size;
  if (cap <= 0 || size - data <= cap) return Trimmed{};
  off_t keep_from = (size - cap / 2) / kBlock * kBlock;
  if (keep_from <= data) return Trimmed{};
  if (data == 0 && ::fallocate(fd.get(), FALLOC_FL_COLLAPSE_RANGE, 0, keep_from) == 0) {
    return Trimmed{keep_from, true, 0};
  }
  if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, data, keep_from - data) ==
      0) {
    return Trimmed{keep_from - data, false, keep_from};
  }
  return make_error(Errc::failed, "cannot trim " + path + ": " + std::strerror(errno));
}

struct LogCap::Impl {
  LogWatch& watch;
  Timers& timers;
  struct File {
    std::string path;
    std::int64_t cap = 0;
    TrimFn on_trim;
    LogWatch::Id wd = 0;
    Timers::Timer timer;  ///< the interval before it listens again
    off_t last_size = 0;
    bool failed = false;
  };
  std::map<Id, File> files;
  Id next = 1;

  void arm(Id id) {
    auto it = files.find(id);
    if (it == files.end() || it->second.failed) return;
    it->second.wd = watch.watch(it->second.path, [this, id] { changed(id); });
  }

  /// The file grew: stop listening, trim it if it is over its cap, listen again later.
  void changed(Id id) {
    auto it = files.find(id);
    if (it == files.end()) return;
    File& f = it->second;
    watch.unwatch(f.wd);
    f.wd = 0;
    if (f.timer.pending()) return;
    check(id);
  }

  /// Trims the file if it is over its cap; false once it cannot be (no longer capped).
  bool trim(File& f) {
    auto t = trim_log_file(f.path, f.cap);
    if (!t) {
      spdlog::error("{}; its log is no longer capped", t.error().message);
      f.failed = true;
      return false;
    }
    if (t->removed > 0) f.on_trim(*t);
    return true;
  }

  void check(Id id) {
    auto it = files.find(id);
    if (it == files.end()) return;
    File& f = it->second;
    if (!trim(f)) return;
    struct stat st {};
    ::stat(f.path.c_str(), &st);
    f.last_size = st.st_size;
    // Re-listen only after the interval: a busy file wakes us at most once per interval.
    f.timer = timers.start(kCheckInterval, [this, id] {
      if (!files.contains(id)) return;
      arm(id);
      check_size_only(id);
    });
  }

  /// After re-listening: output written while we were not listening counts too.
  void check_size_only(Id id) {
    auto it = files.find(id);
    if (it == files.end()) return;
    struct stat st {};
    if (::stat(it->second.path.c_str(), &st) == 0 && st.st_size != it->second.last_size)
      changed(id);
  }
};

LogCap::LogCap(LogWatch& watch, Timers& timers)
    : impl_(std::make_unique<Impl>(Impl{watch, timers, {}, 1})) {}
LogCap::~LogCap() = default;

LogCap::Id LogCap::add(const std::string& path, std::int64_t cap, TrimFn on_trim) {
  Id id = impl_->next++;
  Impl::File f;
  f.path = path;
  f.cap = cap;
  f.on_trim = std::move(on_trim);
  impl_->files.emplace(id, std::move(f));
  impl_->arm(id);
  return id;
}

void LogCap::finish(Id id) {
  auto it = impl_->files.find(id);
  if (it == impl_->files.end()) return;
  if (!it->second.failed) impl_->trim(it->second);
  remove(id);
}

void LogCap::remove(Id id) {
  auto it = impl_->files.find(id);
  if (it == impl_->files.end()) return;
  impl_->watch.unwatch(it->second.wd);
  impl_->files.erase(it);  // its timer with it
}

}  // namespace sbx::daemon
