#include "daemon/logs/watch.hpp"

#include <linux/magic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/duration.hpp"

namespace sbx::daemon {
namespace asio = boost::asio;

namespace {
/// How often a file that inotify cannot watch is checked, while someone listens.
constexpr Millis kPollInterval{20};
}  // namespace

struct LogWatch::Impl {
  asio::posix::stream_descriptor desc;
  asio::steady_timer poll_timer;
  struct File {
    int wd = -1;              ///< -1: polled
    bool every_poll = false;  ///< polled, but its size and mtime tell nothing (cgroup.events)
    off_t size = 0;
    timespec mtime{};
    std::map<Id, std::function<void()>> listeners;
  };
  std::map<std::string, File> files;
  std::map<int, std::string> paths_by_wd;
  std::map<Id, std::string> paths_by_id;
  Id next = 1;
  bool reading = false;
  bool polling = false;
  bool said_polling = false;
  std::string init_error;  ///< why there is no inotify instance

  void read() {
    if (reading) return;
    reading = true;
    desc.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      reading = false;
                      if (ec) return;
                      alignas(inotify_event) char buf[16384];
                      std::vector<int> changed;
                      for (;;) {
                        ssize_t n = ::read(desc.native_handle(), buf, sizeof buf);
                        if (n <= 0) break;
                        for (char* p = buf; p < buf + n;) {
                          auto* ev = reinterpret_cast<inotify_event*>(p);
                          changed.push_back(ev->wd);
                          p += sizeof(inotify_event) + ev->len;
                        }
                      }
                      std::sort(changed.begin(), changed.end());
                      changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
                      for (int wd : changed) {
                        if (auto p = paths_by_wd.find(wd); p != paths_by_wd.end())
                          notify(p->second);
                      }
                      if (!paths_by_wd.empty()) read();
                    });
  }

  void notify(const std::string& path) {
    auto f = files.find(path);
    if (f == files.end()) return;
    std::vector<std::function<void()>> fns;
    for (auto& [id, fn] : f->second.listeners) fns.push_back(fn);  // listeners may unwatch
    for (auto& fn : fns) fn();
  }

  /// inotify cannot watch `file`: its size and mtime are checked every kPollInterval
  /// instead, while it has listeners.
  void poll(const std::string& path, File& file, const std::string& why) {
    if (!said_polling) {
      spdlog::warn(
          "inotify is unavailable ({}): log files that are followed, waited on or capped are "
          "checked "
          "every {} instead",
          why, format_duration(kPollInterval));
      said_polling = true;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      file.size = st.st_size;
      file.mtime = st.st_mtim;
    }
    // A cgroup's files keep size 0 and their mtime when the kernel changes them: their
    // listeners are told on every poll and read the file themselves.
    struct statfs fs {};
    file.every_poll = ::statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
    arm_poll();
  }

  void arm_poll() {
    if (polling) return;
    polling = true;
    poll_timer.expires_after(kPollInterval);
    poll_timer.async_wait([this](boost::system::error_code ec) {
      polling = false;
      if (ec) return;
      std::vector<std::string> changed;
      bool any = false;
      for (auto& [path, f] : files) {
        if (f.wd >= 0) continue;
        any = true;
        if (f.every_poll) {
          changed.push_back(path);
          continue;
        }
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) continue;
        if (st.st_size == f.size && st.st_mtim.tv_sec == f.mtime.tv_sec &&
            st.st_mtim.tv_nsec == f.mtime.tv_nsec)
          continue;
        f.size = st.st_size;
        f.mtime = st.st_mtim;
        changed.push_back(path);
      }
      for (const auto& path : changed) notify(path);
      if (any) arm_poll();
    });
  }
};

LogWatch::LogWatch(asio::io_context& io)
    : impl_(std::make_unique<Impl>(Impl{asio::posix::stream_descriptor(io),
                                        asio::steady_timer(io),
                                        {},
                                        {},
                                        {},
                                        1,
                                        false,
                                        false,
                                        false,
                                        {}})) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0)
    impl_->desc.assign(fd);
  else
    impl_->init_error = std::string("inotify_init1: ") + std::strerror(errno);
}

LogWatch::~LogWatch() = default;

LogWatch::Id LogWatch::watch(const std::string& path, std::function<void()> on_change) {
  auto& I = *impl_;
  bool is_new = !I.files.count(path);
  auto& file = I.files[path];
  if (is_new) {
    if (I.desc.is_open())
      file.wd = ::inotify_add_watch(I.desc.native_handle(), path.c_str(), IN_MODIFY);
    if (file.wd >= 0) {
      I.paths_by_wd[file.wd] = path;
      I.read();
    } else {
      I.poll(path, file,
             I.desc.is_open() ? std::string("inotify_add_watch: ") + std::strerror(errno)
                              : I.init_error);
    }
  }
  Id id = I.next++;
  file.listeners.emplace(id, std::move(on_change));
  I.paths_by_id[id] = path;
  return id;
}

void LogWatch::unwatch(Id id) {
  auto& I = *impl_;
  auto p = I.paths_by_id.find(id);
  if (p == I.paths_by_id.end()) return;
  auto f = I.files.find(p->second);
  I.paths_by_id.erase(p);
  if (f == I.files.end()) return;
  f->second.listeners.erase(id);
  if (f->second.listeners.empty()) {
    if (f->second.wd >= 0) {
      ::inotify_rm_watch(I.desc.native_handle(), f->second.wd);
      I.paths_by_wd.erase(f->second.wd);
    }
    I.files.erase(f);
  }
}

}  // namespace sbx::daemon
