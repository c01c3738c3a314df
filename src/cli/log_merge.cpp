#include "cli/log_merge.hpp"

#include <algorithm>

namespace sbx::cli {

std::size_t LogMerge::add_source() {
  sources_.emplace_back();
  return sources_.size() - 1;
}

void LogMerge::push(std::size_t source, std::uint8_t stream, std::int64_t time_ns,
                    std::string bytes) {
  Source& s = sources_[source];
  s.bytes += bytes.size();
  s.last_time = std::max(s.last_time, time_ns);
  s.items.push_back(MergedRun{source, false, stream, time_ns, std::move(bytes)});
}

void LogMerge::caught_up(std::size_t source) { sources_[source].caught_up = true; }

void LogMerge::done(std::size_t source) {
  Source& s = sources_[source];
  if (s.done) return;
  s.done = true;
  // At the time of its last output: it goes right after it.
  s.items.push_back(MergedRun{source, true, 0, s.last_time, {}});
}

const LogMerge::Source* LogMerge::next() const {
  const Source* best = nullptr;
  for (const auto& s : sources_) {
    if (s.items.empty()) {
      if (!s.done && !s.caught_up) return nullptr;  // what it sends next may be earlier
      continue;
    }
    if (!best || s.items.front().time_ns < best->items.front().time_ns) best = &s;
  }
  return best;
}

std::optional<MergedRun> LogMerge::pop() {
  auto* best = const_cast<Source*>(next());
  if (!best) return std::nullopt;
  MergedRun r = std::move(best->items.front());
  best->items.pop_front();
  best->bytes -= r.bytes.size();
  return r;
}

bool LogMerge::drained() const {
  for (const auto& s : sources_) {
    if (!s.done || !s.items.empty()) return false;
  }
  return true;
}

}  // namespace sbx::cli
