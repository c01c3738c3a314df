#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/protocol.hpp"

namespace sbx::proto {

struct Frame {
  FrameKind kind{};
  std::uint8_t flags = 0;
  std::string payload;
};

/// Appends one encoded frame to `out`.
void encode_frame(std::string& out, FrameKind kind, std::uint8_t flags, std::string_view payload);
std::string encode_frame(FrameKind kind, std::uint8_t flags, std::string_view payload);

/// A CHUNK's payload (see protocol.hpp): runs of bytes, each with its write time.
struct ChunkRun {
  std::int64_t time_ns = 0;  ///< 0: unknown
  std::uint32_t length = 0;
};
struct Chunk {
  std::uint32_t source = 0;
  std::vector<ChunkRun> runs;
  std::string_view bytes;  ///< every run's, in order
};
std::string encode_chunk(std::uint32_t source, const std::vector<ChunkRun>& runs,
                         std::string_view bytes);
/// nullopt unless the runs are well-formed and their lengths add up to the bytes.
std::optional<Chunk> decode_chunk(std::string_view payload);

/// Incremental decoder: feed() bytes as they arrive, in any split; next() pops whole
/// frames. It knows a frame's size from its header before buffering the payload, so an
/// oversized or unknown frame is refused without allocating for it. Once failed(), it
/// stays failed.
class FrameReader {
 public:
  /// `max_control` caps HELLO/RESPONSE/EVENT/END payloads; the client, which trusts its
  /// daemon, allows large replies (ps of thousands of records). REQUEST payloads may be up
  /// to kMaxRequestPayload (or `max_control`, if larger).
  explicit FrameReader(std::size_t max_control = kMaxControlPayload) : max_control_(max_control) {}
  void feed(std::string_view bytes);
  /// The next complete frame, or nullopt when more bytes are needed or on failure.
  std::optional<Frame> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  /// Bytes received but not yet returned as frames.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t max_control_;
};

}  // namespace sbx::proto
