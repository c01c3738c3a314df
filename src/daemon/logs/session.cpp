#include "daemon/logs/session.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "proto/protocol.hpp"

namespace sbx::daemon {

namespace {

/// Bytes cut from the front of the process's log file of `stream` (see ProcessRecord).
std::int64_t collapsed(Context& ctx, const std::string& id, std::uint8_t stream) {
  const ProcessRecord* r = ctx.supervisor.find(id);
  if (!r) return 0;
  return stream == proto::kStreamStderr ? r->collapsed_stderr : r->collapsed_stdout;
}

}  // namespace

Result<std::shared_ptr<LogSession>> LogSession::open(Context& ctx, const LogSessionSpec& spec,
                                                     LogReader::Sink sink, ConnPtr throttle) {
  std::shared_ptr<LogSession> s(new LogSession(ctx, spec.id));
  std::vector<LogSource> sources;
  for (bool is_err : {false, true}) {
    if (is_err ? !spec.want_stderr : !spec.want_stdout) continue;
    std::string path = ctx.paths.log_path(spec.id, is_err);
    LogSource src;
    src.stream = is_err ? proto::kStreamStderr : proto::kStreamStdout;
    src.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!src.fd) {
      if (errno == ENOENT) continue;  // a process that could not start has no logs
      return make_error(Errc::failed, "cannot read " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    ::fstat(src.fd.get(), &st);
    if (const auto& from = spec.from[is_err ? 1 : 0]) {
      src.offset = resume_offset(*from, collapsed(ctx, spec.id, src.stream), st.st_size);
    } else if (spec.tail) {
      src.offset = tail_offset(src.fd.get(), st.st_size, *spec.tail);
    }
    // A capped log on a filesystem without collapse starts with a punched hole: skip it.
    if (off_t data = ::lseek(src.fd.get(), src.offset, SEEK_DATA); data > src.offset)
      src.offset = data;
    s->paths_.push_back(path);
    sources.push_back(std::move(src));
  }
  s->follow_ = spec.follow;
  s->reader_ = std::make_shared<LogReader>(std::move(sources), std::move(sink), std::move(throttle),
                                           ctx.timers);
  return s;
}

void LogSession::start(DoneFn done) {
  done_ = std::move(done);
  hold_ = ctx_.supervisor.hold(id_);
  const ProcessRecord* r = ctx_.supervisor.find(id_);
  ended_ = !r || r->ended();
  if (follow_ && !ended_) {
    // Subscribe before reading, so no write and no exit falls between the two.
    std::weak_ptr<LogSession> weak = shared_from_this();
    for (const auto& path : paths_) {
      watches_.push_back(ctx_.log_watch.watch(path, [weak] {
        if (auto s = weak.lock()) s->reader_->kick();
      }));
    }
    end_watch_ = ctx_.supervisor.watch_end(id_, [weak](const ProcessRecord&) {
      if (auto s = weak.lock()) {
        s->ended_ = true;
        s->end_watch_ = 0;
        s->reader_->kick();  // the last bytes it wrote
      }
    });
  }
  std::weak_ptr<LogSession> weak = shared_from_this();
  trim_watch_ = ctx_.supervisor.watch_trim(id_, [weak](std::uint8_t stream, const Trimmed& cut) {
    auto s = weak.lock();
    if (s && s->reader_->trimmed(stream, cut)) s->tell_offsets({stream});
  });
  reader_->set_at_end([weak] {
    if (auto s = weak.lock()) s->at_end();
  });
  tell_offsets({proto::kStreamStdout, proto::kStreamStderr});
  reader_->kick();
}

void LogSession::tell_offsets(std::initializer_list<std::uint8_t> streams) {
  if (!on_offset_) return;
  Offsets o;
  bool any = false;
  for (std::uint8_t stream : streams) {
    off_t at = reader_->offset(stream);
    if (at < 0) continue;
    o.at[stream == proto::kStreamStderr ? 1 : 0] = at + collapsed(ctx_, id_, stream);
    any = true;
  }
  if (any) on_offset_(o);
}

void LogSession::at_end() {
  if (stopped_ || (follow_ && !ended_)) return;
  auto done = std::move(done_);
  const ProcessRecord* r = ctx_.supervisor.find(id_);
  ProcessRecord rec = r ? *r : ProcessRecord{};
  stop();
  if (done) done(rec);
}

void LogSession::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto w : watches_) ctx_.log_watch.unwatch(w);
  watches_.clear();
  if (end_watch_) ctx_.supervisor.unwatch_end(id_, end_watch_);
  end_watch_ = 0;
  if (trim_watch_) ctx_.supervisor.unwatch_trim(id_, trim_watch_);
  trim_watch_ = 0;
  if (reader_) reader_->stop();
  hold_.reset();  // may remove an --rm process: last
}

LogSession::~LogSession() { stop(); }

}  // namespace sbx::daemon
