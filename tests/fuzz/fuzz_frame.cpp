// FrameReader fed arbitrary bytes in arbitrary splits, and every frame's payload through the
// JSON readers and the CHUNK decoder. Properties: no crash/UB; frames do not depend on how the
// bytes were split; a returned frame re-encodes to the bytes it came from; the reader never buffers
// more than it was fed (it allocates for a frame only as its bytes arrive).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "check.hpp"
#include "proto/frame.hpp"
#include "proto/message.hpp"

using namespace sbx;
using namespace sbx::proto;

namespace {

void inspect(const Frame& f) {
  (void)parse_json(f.payload);
  (void)decode_reply(f.payload);
  (void)check_hello(f.payload, "peer");
  // A CHUNK's runs add up to its bytes, and it re-encodes to the payload it came from.
  if (auto c = decode_chunk(f.payload)) {
    std::size_t total = 0;
    for (const auto& r : c->runs) total += r.length;
    CHECK(total == c->bytes.size());
    CHECK(c->runs.size() <= kMaxChunkRuns);
    CHECK(encode_chunk(c->source, c->runs, c->bytes) == f.payload);
  }
}

struct Run {
  std::vector<Frame> frames;
  bool failed = false;
  std::size_t buffered = 0;
};

Run drain_all(FrameReader& r, Run run) {
  while (auto f = r.next()) run.frames.push_back(std::move(*f));
  run.failed = r.failed();
  run.buffered = r.buffered();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  // The control-payload cap: the daemon's default, or small ones that the input can reach.
  static constexpr std::size_t kCaps[] = {kMaxControlPayload, 0, 16, 300};
  std::size_t cap = kCaps[fdp.ConsumeIntegralInRange<std::size_t>(0, 3)];

  // Chunks: lengths come from the tail of the input (FuzzedDataProvider takes integers from
  // the end, bytes from the front), so the fuzzer controls both the stream and its splits.
  std::vector<std::string> chunks;
  std::string stream;
  while (fdp.remaining_bytes() > 0) {
    auto n = fdp.ConsumeIntegralInRange<std::size_t>(0, 64);
    if (n == 0) n = fdp.remaining_bytes();  // the rest in one piece
    chunks.push_back(fdp.ConsumeBytesAsString(n));
    stream += chunks.back();
  }

  // Split feed, draining after each chunk as the daemon does.
  FrameReader split(cap);
  Run a;
  std::size_t fed = 0;
  for (const auto& c : chunks) {
    split.feed(c);
    fed += c.size();
    CHECK(split.buffered() <= fed);
    while (auto f = split.next()) {
      inspect(*f);
      a.frames.push_back(std::move(*f));
    }
    if (split.failed()) {
      CHECK(!split.error().empty());
      CHECK(!split.next());  // stays failed
    }
  }
  a.failed = split.failed();
  a.buffered = split.buffered();

  // One feed of the whole stream must give the same frames and the same outcome.
  FrameReader whole(cap);
  whole.feed(stream);
  Run b = drain_all(whole, Run{});
  CHECK(a.failed == b.failed);
  CHECK(a.frames.size() == b.frames.size());
  std::string reencoded;
  for (std::size_t i = 0; i < a.frames.size(); ++i) {
    CHECK(a.frames[i].kind == b.frames[i].kind);
    CHECK(a.frames[i].flags == b.frames[i].flags);
    CHECK(a.frames[i].payload == b.frames[i].payload);
    std::size_t limit = a.frames[i].kind == FrameKind::data      ? kMaxDataPayload
                        : a.frames[i].kind == FrameKind::chunk   ? kMaxChunkPayload
                        : a.frames[i].kind == FrameKind::request ? std::max(cap, kMaxRequestPayload)
                                                                 : cap;
    CHECK(a.frames[i].payload.size() <= limit);
    encode_frame(reencoded, a.frames[i].kind, a.frames[i].flags, a.frames[i].payload);
  }
  // The frames are a prefix of the stream, byte for byte.
  CHECK(stream.compare(0, reencoded.size(), reencoded) == 0);
  if (!a.failed) CHECK(a.buffered == stream.size() - reencoded.size());
  return 0;
}
