// LineMatcher over a stream split at fuzzer-chosen points. Properties: no crash/UB; the
// first match does not depend on the split and, in substring mode, equals a plain
// reference (first line, '\r'-trimmed, that contains the pattern).
//
// Regex mode compiles the fuzzed pattern (that path must never throw or crash) but matches
// with fixed, realistic patterns: libstdc++'s std::regex backtracks, so a fuzzed pattern
// such as (a*)*b times out or overflows the stack on any engine of its kind, which would
// drown the findings about LineMatcher itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "check.hpp"
#include "common/line_matcher.hpp"

using namespace sbx;

namespace {

constexpr const char* kRegexes[] = {
    R"(listening on port (\d+))",
    R"(^ready$)",
    R"((\w+)=(\S*))",
    R"(ERROR|FATAL)",
    R"(^\[(\d{2}):(\d{2})\] (.*)$)",
    R"(done(?: in (\d+)ms)?)",
};

std::optional<LineMatch> run(LineMatcher m, const std::vector<std::string>& chunks) {
  for (const auto& c : chunks) {
    if (auto r = m.feed(c)) return r;
  }
  return m.finish();
}

std::optional<std::string> reference(const std::string& stream, const std::string& pattern) {
  std::size_t at = 0;
  while (at <= stream.size()) {
    auto nl = stream.find('\n', at);
    bool last = nl == std::string::npos;
    std::string line = stream.substr(at, last ? std::string::npos : nl - at);
    if (last && line.empty()) return std::nullopt;  // finish() tests no empty tail
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find(pattern) != std::string::npos) return line;
    if (last) return std::nullopt;
    at = nl + 1;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  bool regex = fdp.ConsumeBool();
  std::string pattern = fdp.ConsumeRandomLengthString(64);
  std::string fixed = kRegexes[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(kRegexes) - 1)];

  std::vector<std::string> chunks;
  std::string stream;
  while (fdp.remaining_bytes() > 0) {
    auto n = fdp.ConsumeIntegralInRange<std::size_t>(0, 48);
    if (n == 0) n = fdp.remaining_bytes();
    chunks.push_back(fdp.ConsumeBytesAsString(n));
    stream += chunks.back();
  }

  if (regex) {
    (void)LineMatcher::make(pattern, true);  // a usage error or a matcher, never a throw
    auto a = LineMatcher::make(fixed, true);
    CHECK(a.ok());
    auto split = run(std::move(*a), chunks);
    auto whole = run(std::move(*LineMatcher::make(fixed, true)), {stream});
    CHECK(split.has_value() == whole.has_value());
    if (split) {
      CHECK(split->line == whole->line);
      CHECK(split->groups == whole->groups);
      CHECK(!split->groups.empty());
    }
    return 0;
  }

  auto m = LineMatcher::make(pattern, false);
  CHECK(m.ok());
  auto split = run(std::move(*m), chunks);
  auto whole = run(std::move(*LineMatcher::make(pattern, false)), {stream});
  auto ref = reference(stream, pattern);  // inputs stay far below kMaxLine
  CHECK(split.has_value() == ref.has_value());
  CHECK(whole.has_value() == ref.has_value());
  if (split) {
    CHECK(split->line == *ref);
    CHECK(whole->line == *ref);
    CHECK(split->groups.size() == 1 && split->groups[0] == pattern);
  }
  return 0;
}
