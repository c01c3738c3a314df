#include "daemon/log_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <map>
#include <spdlog/spdlog.h>

namespace sbx::daemon {
namespace asio = boost::asio;

struct LogWatch::Impl {
  asio::posix::stream_descriptor desc;
  struct File {
    int wd = -1;
    std::map<Id, std::function<void()>> listeners;
  };
  std::map<std::string, File> files;
  std::map<int, std::string> paths_by_wd;
  std::map<Id, std::string> paths_by_id;
  Id next = 1;
  bool reading = false;

  void read() {
    if (reading) return;
    reading = true;
    desc.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
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
      for (int wd : changed) notify(wd);
      if (!files.empty()) read();
    });
  }

  void notify(int wd) {
    auto p = paths_by_wd.find(wd);
    if (p == paths_by_wd.end()) return;
    auto f = files.find(p->second);
    if (f == files.end()) return;
    std::vector<std::function<void()>> fns;
    for (auto& [id, fn] : f->second.listeners) fns.push_back(fn);  // listeners may unwatch
    for (auto& fn : fns) fn();
  }
};

LogWatch::LogWatch(asio::io_context& io)
    : impl_(std::make_unique<Impl>(Impl{asio::posix::stream_descriptor(io), {}, {}, {}, 1, false})) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) spdlog::error("inotify unavailable: followers will not see new output");
  else impl_->desc.assign(fd);
}

LogWatch::~LogWatch() = default;

LogWatch::Id LogWatch::watch(const std::string& path, std::function<void()> on_change) {
  auto& I = *impl_;
  if (!I.desc.is_open()) return 0;
  auto& file = I.files[path];
  if (file.wd < 0) {
    file.wd = ::inotify_add_watch(I.desc.native_handle(), path.c_str(), IN_MODIFY);
    if (file.wd < 0) {
      I.files.erase(path);
      return 0;
    }
    I.paths_by_wd[file.wd] = path;
  }
  Id id = I.next++;
  file.listeners.emplace(id, std::move(on_change));
  I.paths_by_id[id] = path;
  I.read();
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
    ::inotify_rm_watch(I.desc.native_handle(), f->second.wd);
    I.paths_by_wd.erase(f->second.wd);
    I.files.erase(f);
  }
}

}  // namespace sbx::daemon
