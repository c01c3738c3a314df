#include "daemon/logs/reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "proto/protocol.hpp"

namespace sbx::daemon {

off_t tail_offset(int fd, off_t size, std::int64_t lines) {
  if (lines <= 0) return size;
  char buf[65536];
  off_t end = size;
  bool skip_final_newline = true;
  std::int64_t seen = 0;
  while (end > 0) {
    off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - start), start);
    if (n <= 0) return 0;
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (buf[i] != '\n') {
        skip_final_newline = false;
        continue;
      }
      if (skip_final_newline) {  // the newline that ends the last line
        skip_final_newline = false;
        continue;
      }
      if (++seen == lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

LogReader::LogReader(std::vector<LogSource> sources, Sink sink, ConnPtr throttle, Timers& timers)
    : sources_(std::move(sources)),
      sink_(std::move(sink)),
      throttle_(std::move(throttle)),
      timers_(timers) {}

void LogReader::stop() {
  stopped_ = true;
  at_end_ = nullptr;
  sink_ = nullptr;
}

off_t resume_offset(std::int64_t logical, std::int64_t collapsed, off_t size) {
  return static_cast<off_t>(std::clamp<std::int64_t>(logical - collapsed, 0, size));
}

bool LogReader::trimmed(std::uint8_t stream, const Trimmed& cut) {
  bool jumped = false;
  for (auto& src : sources_) {
    if (src.stream != stream) continue;
    off_t was = src.offset;
    if (cut.shifted) src.offset = src.offset > cut.removed ? src.offset - cut.removed : 0;
    jumped = jumped || (cut.shifted ? was < cut.removed : was < cut.kept_from);
    src.offset = std::max(src.offset, cut.kept_from);
  }
  return jumped;
}

off_t LogReader::offset(std::uint8_t stream) const {
  for (const auto& src : sources_) {
    if (src.stream == stream) return src.offset;
  }
  return -1;
}

void LogReader::kick() {
  if (stopped_) return;
  if (busy_) {
    again_ = true;
    return;
  }
  if (buf_.empty()) buf_.resize(proto::kMaxDataPayload);
  std::size_t budget = kYieldBytes;
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& src : sources_) {  // round-robin, so both streams advance
      if (stopped_) return;
      if (throttle_ && throttle_->closed()) return;
      if (throttle_ && throttle_->queued() >= kHighWater) {
        busy_ = true;
        throttle_->on_drain([self = shared_from_this()] {
          self->busy_ = false;
          self->kick();
        });
        return;
      }
      if (!throttle_ && budget == 0) {
        busy_ = true;
        timers_.after(Millis(0), [self = shared_from_this()] {
          self->busy_ = false;
          self->kick();
        });
        return;
      }
      ssize_t n = ::pread(src.fd.get(), buf_.data(), buf_.size(), src.offset);
      if (n < 0 && errno == EINTR) n = ::pread(src.fd.get(), buf_.data(), buf_.size(), src.offset);
      if (n <= 0) continue;
      src.offset += n;
      budget -= std::min(budget, static_cast<std::size_t>(n));
      progress = true;
      sink_(src.stream, std::string_view(buf_.data(), static_cast<size_t>(n)));
    }
  }
  again_ = false;
  if (at_end_ && !stopped_) {
    auto fn = at_end_;  // may stop() us or kick() again
    fn();
  }
}

}  // namespace sbx::daemon
