#include "daemon/logs/indexed_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <queue>

#include "proto/protocol.hpp"

namespace sbx::daemon {

namespace {
int stream_index(std::uint8_t stream) { return stream == proto::kStreamStderr ? 1 : 0; }
std::uint8_t stream_of(int k) { return k == 1 ? proto::kStreamStderr : proto::kStreamStdout; }
}  // namespace

IndexedReader::IndexedReader(UniqueFd index, std::vector<LogSource> sources, TimeFilter filter,
                             CollapsedFn collapsed, Sink sink, ConnPtr throttle, Timers& timers)
    : index_fd_(std::move(index)),
      cursor_(index_fd_.get()),
      sources_(std::move(sources)),
      filter_(filter),
      collapsed_(std::move(collapsed)),
      sink_(std::move(sink)),
      throttle_(std::move(throttle)),
      timers_(timers) {
  for (std::size_t i = 0; i < sources_.size(); ++i)
    src_[stream_index(sources_[i].stream)] = static_cast<int>(i);
  refresh_kept();
}

void IndexedReader::refresh_kept() {
  for (int k = 0; k < 2; ++k) {
    if (src_[k] < 0) continue;
    int fd = sources_[src_[k]].fd.get();
    struct stat st {};
    ::fstat(fd, &st);
    off_t data = ::lseek(fd, 0, SEEK_DATA);  // past a punched hole; none: all of it cut
    kept_[k] = collapsed_(stream_of(k)) + (data < 0 ? st.st_size : data);
  }
}

void IndexedReader::start_from(const std::optional<std::int64_t> (&from)[2]) {
  for (int k = 0; k < 2; ++k) next_[k] = told_[k] = from[k].value_or(kept_[k]);
}

void IndexedReader::start_tail(std::int64_t lines) {
  // A line of a stream starts after its newline, or with its first byte; in the merged
  // view it sits where that byte does: (index position of its entry, logical offset).
  // Walking back, a chunk's first byte is a start only if its stream's chunk before it
  // ended with '\n': pending until that chunk is seen. The N latest starts are kept; the
  // walk stops once no start still to come could be later than the Nth.
  using Pos = std::pair<off_t, std::int64_t>;
  std::priority_queue<Pos, std::vector<Pos>, std::greater<Pos>> latest;  // min-heap of the N latest
  auto add = [&](Pos p) {
    if (lines <= 0) return;
    latest.push(p);
    if (static_cast<std::int64_t>(latest.size()) > lines) latest.pop();
  };
  std::optional<Pos> pending[2];
  std::optional<Pos> at_end;  // -n 0: after the last wanted entry
  bool complete = true;       // walked to the front: what is pending is a start
  if (buf_.empty()) buf_.resize(proto::kMaxDataPayload);
  log_index::walk_back(index_fd_.get(), [&](const log_index::Entry& e, off_t pos) {
    int k = stream_index(e.stream);
    if (src_[k] < 0 || !filter_.pass(e.time_ns)) return true;
    std::int64_t end = static_cast<std::int64_t>(e.offset + e.length);
    if (!at_end) at_end = Pos{pos, end};
    if (lines <= 0) return false;
    std::int64_t lo = std::max<std::int64_t>(static_cast<std::int64_t>(e.offset), kept_[k]);
    std::int64_t collapsed = collapsed_(stream_of(k));
    bool last_byte = true;
    for (std::int64_t hi = end; hi > lo;) {
      std::int64_t start = std::max(lo, hi - static_cast<std::int64_t>(buf_.size()));
      ssize_t n = ::pread(sources_[src_[k]].fd.get(), buf_.data(),
                          static_cast<std::size_t>(hi - start), start - collapsed);
      if (n != hi - start) return false;  // bytes the index promised are gone: nothing older
      for (std::int64_t i = n - 1; i >= 0; --i, last_byte = false) {
        if (buf_[i] != '\n') continue;
        if (last_byte) {
          if (pending[k]) add(*pending[k]);
        } else {
          add(Pos{pos, start + i + 1});
        }
      }
      hi = start;
    }
    pending[k] = Pos{pos, lo};
    if (lo > static_cast<std::int64_t>(e.offset)) return false;  // the cap cut what came before
    if (static_cast<std::int64_t>(latest.size()) < lines) return true;
    for (const auto& p : pending) {
      if (p && *p > latest.top()) return true;
    }
    complete = false;
    return false;
  });
  if (complete) {
    for (const auto& p : pending) {
      if (p) add(*p);
    }
  }
  std::optional<Pos> cut = lines <= 0 ? at_end : std::nullopt;
  if (lines > 0 && static_cast<std::int64_t>(latest.size()) == lines) cut = latest.top();
  if (!cut) return start_from({});  // fewer lines than asked: all of it
  // Each stream goes on from its first entry after the cut (the cut's stream, inside it;
  // one with none after, after its last one).
  std::optional<std::int64_t> from[2];
  log_index::walk_back(index_fd_.get(), [&](const log_index::Entry& e, off_t pos) {
    int k = stream_index(e.stream);
    if (src_[k] < 0) return true;
    if (pos > cut->first) {
      from[k] = static_cast<std::int64_t>(e.offset);
      return true;
    }
    if (pos == cut->first)
      from[k] = cut->second;
    else if (!from[k])
      from[k] = static_cast<std::int64_t>(e.offset + e.length);
    return !(from[0] || src_[0] < 0) || !(from[1] || src_[1] < 0);
  });
  cursor_.seek(cut->first);
  for (int k = 0; k < 2; ++k) next_[k] = told_[k] = std::max(from[k].value_or(kept_[k]), kept_[k]);
}

void IndexedReader::stop() {
  stopped_ = true;
  at_end_ = nullptr;
  on_jump_ = nullptr;
  sink_ = nullptr;
}

std::int64_t IndexedReader::position(std::uint8_t stream) const {
  int k = stream_index(stream);
  return src_[k] < 0 ? -1 : told_[k];
}

void IndexedReader::queue(int k, std::int64_t time_ns, std::int64_t from, std::int64_t to) {
  from = std::max(from, next_[k]);
  if (to <= from) return;
  bool skip = !filter_.pass(time_ns);
  pending_.push_back(Range{k, time_ns, from, to, skip});
  next_[k] = to;
}

void IndexedReader::take(const log_index::Entry& e) {
  int k = stream_index(e.stream);
  if (src_[k] < 0) return;
  auto from = static_cast<std::int64_t>(e.offset);
  queue(k, e.time_ns, next_[k], from);  // bytes before it that no entry covers
  queue(k, e.time_ns, from, from + e.length);
}

void IndexedReader::flush_unindexed() {
  for (int k = 0; k < 2; ++k) {
    if (src_[k] < 0) continue;
    struct stat st {};
    if (::fstat(sources_[src_[k]].fd.get(), &st) != 0) continue;
    std::int64_t mtime =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    queue(k, mtime, next_[k], collapsed_(stream_of(k)) + st.st_size);
  }
}

bool IndexedReader::pause(std::size_t budget) {
  if (throttle_ && throttle_->queued() >= kHighWater) {
    busy_ = true;
    throttle_->on_drain([self = shared_from_this()] {
      self->busy_ = false;
      self->kick();
    });
    return true;
  }
  if (!throttle_ && budget == 0) {
    busy_ = true;
    timers_.after(Millis(0), [self = shared_from_this()] {
      self->busy_ = false;
      self->kick();
    });
    return true;
  }
  return false;
}

bool IndexedReader::wants_more() const {
  if (front_ == pending_.size()) return true;
  const Range& f = pending_[front_];
  const Range& last = pending_.back();
  return last.k == f.k && !last.skip &&
         last.to - f.from < static_cast<std::int64_t>(proto::kMaxDataPayload) &&
         pending_.size() - front_ < proto::kMaxChunkRuns;
}

void IndexedReader::send_front(std::size_t& budget) {
  Range& r = pending_[front_];
  if (r.skip) {
    filtered_[r.k] += r.to - std::max(r.from, told_[r.k]);
    ++front_;
    return;
  }
  r.from = std::max(r.from, std::min(kept_[r.k], r.to));  // what the cap cut since
  if (r.from >= r.to) {
    ++front_;
    return;
  }
  if (r.from != told_[r.k]) {
    if (on_jump_) on_jump_(stream_of(r.k), r.from, filtered_[r.k]);
    filtered_[r.k] = 0;
    told_[r.k] = r.from;
  }
  // The ranges after it that go on where it ends, in the same stream: one read, one payload.
  const int k = r.k;
  const std::int64_t from = r.from;
  std::int64_t end = from;
  runs_.clear();
  for (std::size_t j = front_; j < pending_.size() && runs_.size() < proto::kMaxChunkRuns; ++j) {
    const Range& q = pending_[j];
    if (q.k != k || q.skip || q.from != end) break;
    std::int64_t take =
        std::min(q.to - q.from, static_cast<std::int64_t>(proto::kMaxDataPayload) - (end - from));
    if (take <= 0) break;
    runs_.push_back({q.time_ns, static_cast<std::uint32_t>(take)});
    end += take;
    if (q.from + take < q.to) break;
  }
  if (buf_.empty()) buf_.resize(proto::kMaxDataPayload);
  off_t at = static_cast<off_t>(from - collapsed_(stream_of(k)));
  ssize_t n = at < 0 ? 0
                     : ::pread(sources_[src_[k]].fd.get(), buf_.data(),
                               static_cast<std::size_t>(end - from), at);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {  // not in the file (it shrank): nothing to send of it
    ++front_;
    return;
  }
  // Consume what was read, range by range; a short read ends the runs early.
  std::int64_t left = n;
  std::size_t used = 0;
  for (auto& run : runs_) {
    if (left <= 0) break;
    run.length = static_cast<std::uint32_t>(std::min<std::int64_t>(run.length, left));
    left -= run.length;
    Range& q = pending_[front_];
    q.from += run.length;
    if (q.from >= q.to) ++front_;
    ++used;
  }
  runs_.resize(used);
  told_[k] = from + n;
  budget -= std::min(budget, static_cast<std::size_t>(n));
  sink_(stream_of(k), runs_, std::string_view(buf_.data(), static_cast<std::size_t>(n)));
}

void IndexedReader::kick() {
  if (stopped_ || busy_) return;
  refresh_kept();
  cursor_.sync();
  std::size_t budget = kYieldBytes;
  bool flushed = false;
  for (;;) {
    if (stopped_ || (throttle_ && throttle_->closed())) return;
    bool more = true;
    while (wants_more()) {
      auto e = cursor_.next();
      if (!e) {
        more = false;
        break;
      }
      take(*e);
    }
    if (front_ < pending_.size()) {
      if (pause(budget)) return;
      send_front(budget);
      if (front_ == pending_.size()) {
        pending_.clear();
        front_ = 0;
      }
      continue;
    }
    if (more) continue;
    if (!finishing_ || flushed) break;
    flushed = true;
    flush_unindexed();
  }
  if (at_end_ && !stopped_) {
    auto fn = at_end_;  // may stop() us or kick() again
    fn();
  }
}

}  // namespace sbx::daemon
