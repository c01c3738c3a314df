#include "daemon/log_pump.hpp"

#include <unistd.h>

#include <cerrno>
#include <vector>

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

LogPump::LogPump(ConnPtr conn, std::vector<LogSource> sources)
    : conn_(std::move(conn)), sources_(std::move(sources)) {}

void LogPump::run(std::function<void()> done) {
  done_ = std::move(done);
  pump();
}

void LogPump::pump() {
  std::vector<char> buf(proto::kMaxDataPayload);
  while (current_ < sources_.size()) {
    if (conn_->closed()) return;
    if (conn_->queued() >= kHighWater) {
      conn_->on_drain([self = shared_from_this()] { self->pump(); });
      return;
    }
    auto& src = sources_[current_];
    ssize_t n = ::pread(src.fd.get(), buf.data(), buf.size(), src.offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++current_;
      continue;
    }
    src.offset += n;
    conn_->send(proto::FrameKind::data, src.stream, std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (done_) {
    auto done = std::move(done_);
    done_ = nullptr;
    done();
  }
}

}  // namespace sbx::daemon
