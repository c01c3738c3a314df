#include "proto/frame.hpp"

#include <algorithm>

namespace sbx::proto {
namespace {

bool known_kind(std::uint8_t k) { return k >= 1 && k <= 7; }

void put_be(char* out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xFF);
}

std::uint64_t get_be(const char* in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

void encode_frame(std::string& out, FrameKind kind, std::uint8_t flags, std::string_view payload) {
  auto n = static_cast<std::uint32_t>(payload.size());
  char header[kHeaderSize] = {static_cast<char>(n >> 24),
                              static_cast<char>(n >> 16),
                              static_cast<char>(n >> 8),
                              static_cast<char>(n),
                              static_cast<char>(kind),
                              static_cast<char>(flags),
                              0,
                              0};
  out.append(header, kHeaderSize);
  out.append(payload);
}

std::string encode_frame(FrameKind kind, std::uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  encode_frame(out, kind, flags, payload);
  return out;
}

std::string encode_chunk(std::uint32_t source, const std::vector<ChunkRun>& runs,
                         std::string_view bytes) {
  std::string out(8 + runs.size() * 12, '\0');
  put_be(out.data(), source, 4);
  put_be(out.data() + 4, runs.size(), 4);
  char* p = out.data() + 8;
  for (const auto& r : runs) {
    put_be(p, static_cast<std::uint64_t>(r.time_ns), 8);
    put_be(p + 8, r.length, 4);
    p += 12;
  }
  out.append(bytes);
  return out;
}

std::optional<Chunk> decode_chunk(std::string_view payload) {
  if (payload.size() < 8) return std::nullopt;
  Chunk c;
  c.source = static_cast<std::uint32_t>(get_be(payload.data(), 4));
  std::uint64_t n = get_be(payload.data() + 4, 4);
  if (n > kMaxChunkRuns || payload.size() - 8 < n * 12) return std::nullopt;
  c.runs.resize(n);
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const char* p = payload.data() + 8 + i * 12;
    c.runs[i].time_ns = static_cast<std::int64_t>(get_be(p, 8));
    c.runs[i].length = static_cast<std::uint32_t>(get_be(p + 8, 4));
    total += c.runs[i].length;
  }
  c.bytes = payload.substr(8 + n * 12);
  if (total != c.bytes.size()) return std::nullopt;
  return c;
}

void FrameReader::feed(std::string_view bytes) {
  if (failed()) return;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<Frame> FrameReader::next() {
  if (failed() || buf_.size() - pos_ < kHeaderSize) return std::nullopt;
  const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  std::uint32_t len = (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) |
                      (std::uint32_t{h[2]} << 8) | std::uint32_t{h[3]};
  if (!known_kind(h[4])) {
    error_ = "unknown frame kind " + std::to_string(h[4]);
    return std::nullopt;
  }
  if (h[6] != 0 || h[7] != 0) {
    error_ = "reserved frame header bytes are not zero";
    return std::nullopt;
  }
  auto kind = static_cast<FrameKind>(h[4]);
  std::size_t limit = kind == FrameKind::data      ? kMaxDataPayload
                      : kind == FrameKind::chunk   ? kMaxChunkPayload
                      : kind == FrameKind::request ? std::max(max_control_, kMaxRequestPayload)
                                                   : max_control_;
  if (len > limit) {
    error_ = std::string(kind == FrameKind::request ? "a request" : "a frame") + " of " +
             std::to_string(len) + " bytes exceeds the limit of " + std::to_string(limit) +
             " bytes";
    return std::nullopt;
  }
  if (buf_.size() - pos_ < kHeaderSize + len) return std::nullopt;
  Frame f{kind, h[5], buf_.substr(pos_ + kHeaderSize, len)};
  pos_ += kHeaderSize + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

}  // namespace sbx::proto
