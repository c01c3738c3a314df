#pragma once
// The sbx wire protocol, client <-> daemon, over a Unix stream socket.
//
// Bump kProtocolVersion if any frame or message layout here changes incompatibly.
// Additive JSON keys never bump it: readers ignore keys they do not know.
//
//   frame   = u32 payload length (big-endian) | u8 kind | u8 flags | u16 reserved (0) | payload
//   HELLO   client -> {"proto":1,"name":"sbx 0.1.0","pid":N}
//           daemon -> {"proto":1,"name":"sbxd 0.1.0","pid":N}
//   REQUEST {"op":"start","args":{...}}                      one request per connection;
//           the ops are named in proto/ops.hpp, typed in proto/requests_*.hpp
//   RESPONSE {"ok":true,"result":{...}} | {"ok":false,"error":{"code":"not_found","message":"..."}}
//   EVENT   {"type":...} a progress or exit event of a streaming request:
//           logs -f  {"type":"offsets","stdout":N,"stderr":N} where each stream's next DATA
//                    byte lies, as a logical offset (bytes the stream ever held, trims
//                    included); sent first, and again for a stream that skips ahead
//                    {"type":"caught_up"} once, when all the process had written so far
//                    was sent (sbx logs of several processes merges what came before)
//           wait_log {"type":"scanned","stdout":N,"stderr":N} where the line it has not
//                    finished scanning starts (logical offsets), a few times a second at most
//           A client that lost its daemon sends the request again to the next one with
//           "from_stdout"/"from_stderr" set from these, and "waited_ms" next to the
//           "timeout_ms" it has left.
//   DATA    raw log bytes; flags = the stream (kStreamStdout / kStreamStderr)
//   CHUNK   log bytes of one stream with their write times, sent instead of DATA to a logs
//           request that says "timed":true: flags = the stream; payload = u32 source (the
//           request's process, 0 for its first) | u32 n | n runs of (i64 time, ns since the
//           epoch, CLOCK_REALTIME when the shim read them, 0: unknown, a record from before
//           ID.index; u32 length) | the runs' bytes, one after the other: at most
//           kMaxDataPayload bytes and kMaxChunkRuns runs; integers big-endian. CHUNKs come
//           in write order across both streams. An older daemon ignores "timed", sends DATA.
//   END     {"ok":...} the last frame of a streaming request (same shape as RESPONSE)
//
// A client may send HELLO and REQUEST back to back without waiting for the daemon's HELLO;
// the daemon says HELLO as soon as it has read the client's. A connection that ends before
// the final frame means the daemon was lost (a crash, a restart), not an answer.
// A frame that is oversized, of an unknown kind, or carries malformed JSON gets an error
// RESPONSE and the connection is closed.

#include <cstddef>
#include <cstdint>

namespace sbx::proto {

inline constexpr int kProtocolVersion = 1;

enum class FrameKind : std::uint8_t {
  hello = 1,
  request = 2,
  response = 3,
  event = 4,
  data = 5,
  end = 6,
  chunk = 7,
};

inline constexpr std::uint8_t kStreamStdout = 1;
inline constexpr std::uint8_t kStreamStderr = 2;

inline constexpr std::size_t kHeaderSize = 8;
/// Largest control payload (HELLO/RESPONSE/EVENT/END); larger frames are refused.
inline constexpr std::size_t kMaxControlPayload = 1 << 20;
/// Largest REQUEST payload. A start request carries the caller's argv and whole environment:
/// execve(2) takes up to a quarter of the stack limit (2 MiB with the usual 8 MiB, never
/// more than 6 MiB), which JSON escaping can grow, so a request may be far larger than the
/// other control frames.
inline constexpr std::size_t kMaxRequestPayload = 16 << 20;
/// Largest DATA payload, and the most log bytes a CHUNK carries.
inline constexpr std::size_t kMaxDataPayload = 64 << 10;
/// Most runs in a CHUNK, and the largest CHUNK payload.
inline constexpr std::size_t kMaxChunkRuns = 4096;
inline constexpr std::size_t kMaxChunkPayload = 8 + kMaxChunkRuns * 12 + kMaxDataPayload;

}  // namespace sbx::proto
