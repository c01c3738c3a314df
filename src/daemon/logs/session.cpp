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
  IndexedReader::Sink timed;
  if (sink) {
    timed = [sink = std::move(sink)](std::uint8_t s, const std::vector<proto::ChunkRun>&,
                                     std::string_view b) { sink(s, b); };
  }
  return open(ctx, spec, std::move(timed), std::move(throttle));
}

Result<std::shared_ptr<LogSession>> LogSession::open(Context& ctx, const LogSessionSpec& spec,
                                                     IndexedReader::Sink sink, ConnPtr throttle) {
  std::shared_ptr<LogSession> s(new LogSession(ctx, spec.id));
  UniqueFd index;
  if (spec.indexed) {
    std::string path = ctx.paths.index_path(spec.id);
    index.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!index && errno != ENOENT)  // none: a record from before the index, read as it was
      return make_error(Errc::failed, "cannot read " + path + ": " + std::strerror(errno));
    if (index) s->paths_.push_back(path);
  }
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
    if (!index) {
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
      s->paths_.push_back(path);  // through the index, the index's growth wakes it
    }
    sources.push_back(std::move(src));
  }
  s->follow_ = spec.follow;
  if (index) {
    auto cut = [&ctx, id = spec.id](std::uint8_t stream) { return collapsed(ctx, id, stream); };
    s->indexed_ =
        std::make_shared<IndexedReader>(std::move(index), std::move(sources), spec.filter, cut,
                                        std::move(sink), std::move(throttle), ctx.timers);
    if (spec.from[0] || spec.from[1])
      s->indexed_->start_from(spec.from);
    else if (spec.tail)
      s->indexed_->start_tail(*spec.tail);
    else
      s->indexed_->start_from({});
    return s;
  }
  auto untimed = [sink = std::move(sink), runs = std::vector<proto::ChunkRun>(1)](
                     std::uint8_t stream, std::string_view bytes) mutable {
    runs[0] = {0, static_cast<std::uint32_t>(bytes.size())};  // no write time known
    sink(stream, runs, bytes);
  };
  s->reader_ = std::make_shared<LogReader>(std::move(sources), std::move(untimed),
                                           std::move(throttle), ctx.timers);
  return s;
}

void LogSession::kick() {
  if (indexed_) {
    if (!follow_ || ended_) indexed_->finish();
    indexed_->kick();
  } else {
    reader_->kick();
  }
}

void LogSession::start(DoneFn done) {
  done_ = std::move(done);
  hold_ = ctx_.supervisor.hold(id_);
  const ProcessRecord* r = ctx_.supervisor.find(id_);
  ended_ = !r || r->ended();
  std::weak_ptr<LogSession> weak = shared_from_this();
  if (follow_ && !ended_) {
    // Subscribe before reading, so no write and no exit falls between the two.
    for (const auto& path : paths_) {
      watches_.push_back(ctx_.log_watch.watch(path, [weak] {
        if (auto s = weak.lock()) s->kick();
      }));
    }
    end_watch_ = ctx_.supervisor.watch_end(id_, [weak](const ProcessRecord&) {
      if (auto s = weak.lock()) {
        s->ended_ = true;
        s->end_watch_ = 0;
        s->kick();  // the last bytes it wrote
      }
    });
  }
  auto at_end = [weak] {
    if (auto s = weak.lock()) s->at_end();
  };
  if (indexed_) {
    // Positions are logical: a cut moves nothing, and what it took shows as a jump.
    indexed_->on_jump([weak](std::uint8_t stream, std::int64_t at, std::int64_t filtered) {
      auto s = weak.lock();
      if (!s || !s->on_offset_) return;
      Offsets o;
      int k = stream == proto::kStreamStderr ? 1 : 0;
      o.at[k] = at;
      o.filtered[k] = filtered;
      s->on_offset_(o);
    });
    indexed_->set_at_end(at_end);
  } else {
    trim_watch_ = ctx_.supervisor.watch_trim(id_, [weak](std::uint8_t stream, const Trimmed& cut) {
      auto s = weak.lock();
      if (s && s->reader_->trimmed(stream, cut)) s->tell_offsets({stream});
    });
    reader_->set_at_end(at_end);
  }
  tell_offsets({proto::kStreamStdout, proto::kStreamStderr});
  kick();
}

void LogSession::tell_offsets(std::initializer_list<std::uint8_t> streams) {
  if (!on_offset_) return;
  Offsets o;
  bool any = false;
  for (std::uint8_t stream : streams) {
    int k = stream == proto::kStreamStderr ? 1 : 0;
    if (indexed_) {
      std::int64_t at = indexed_->position(stream);
      if (at < 0) continue;
      o.at[k] = at;
    } else {
      off_t at = reader_->offset(stream);
      if (at < 0) continue;
      o.at[k] = at + collapsed(ctx_, id_, stream);
    }
    any = true;
  }
  if (any) on_offset_(o);
}

void LogSession::at_end() {
  if (stopped_) return;
  if (follow_ && !ended_) {
    if (auto fn = std::move(on_caught_up_)) {
      on_caught_up_ = nullptr;
      fn();
    }
    return;
  }
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
  if (indexed_) indexed_->stop();
  hold_.reset();  // may remove an --rm process: last
}

LogSession::~LogSession() { stop(); }

}  // namespace sbx::daemon
