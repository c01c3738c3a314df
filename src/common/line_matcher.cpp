#include "common/line_matcher.hpp"

// Boost.Regex, not std::regex: libstdc++'s std::regex recurses once per character and
// overflows the stack on a long line (a 40 KB line crashed the daemon); Boost.Regex
// matches without recursion and reports a pathological pattern as an error instead.
#include <boost/regex.hpp>

namespace sbx {

struct LineMatcher::Impl {
  std::string pattern;
  std::optional<boost::regex> re;
  std::string partial;    ///< bytes of the current line so far
  bool skipping = false;  ///< inside an over-long line already tested
};

LineMatcher::LineMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineMatcher::LineMatcher(LineMatcher&&) noexcept = default;
LineMatcher& LineMatcher::operator=(LineMatcher&&) noexcept = default;
LineMatcher::~LineMatcher() = default;

Result<LineMatcher> LineMatcher::make(const std::string& pattern, bool regex) {
  auto impl = std::make_unique<Impl>();
  impl->pattern = pattern;
  if (regex) {
    try {
      impl->re.emplace(pattern, boost::regex::ECMAScript);
    } catch (const boost::regex_error& e) {
      return make_error(Errc::usage, "bad regex '" + pattern + "': " + e.what());
    }
  }
  return LineMatcher(std::move(impl));
}

std::optional<LineMatch> LineMatcher::test(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (impl_->re) {
    boost::match_results<std::string_view::const_iterator> m;
    try {
      if (!boost::regex_search(line.begin(), line.end(), m, *impl_->re)) return std::nullopt;
    } catch (const std::runtime_error&) {  // too complex for this line: no match
      return std::nullopt;
    }
    LineMatch out{std::string(line), {}};
    for (const auto& g : m) out.groups.push_back(g.matched ? g.str() : std::string());
    return out;
  }
  if (line.find(impl_->pattern) == std::string_view::npos) return std::nullopt;
  return LineMatch{std::string(line), {impl_->pattern}};
}

std::optional<LineMatch> LineMatcher::feed(std::string_view bytes) {
  auto& I = *impl_;
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    bytes = nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1);
    bool complete = nl != std::string_view::npos;
    if (I.skipping) {
      if (complete) I.skipping = false;
      continue;
    }
    if (complete && I.partial.empty()) {  // the common case: no copy
      if (auto m = test(piece)) return m;
      continue;
    }
    I.partial.append(piece.substr(0, kMaxLine - std::min(kMaxLine, I.partial.size())));
    if (complete || I.partial.size() >= kMaxLine) {
      std::string line = std::move(I.partial);
      I.partial.clear();
      I.skipping = !complete;
      if (auto m = test(line)) return m;
    }
  }
  return std::nullopt;
}

std::optional<LineMatch> LineMatcher::finish() {
  if (impl_->partial.empty()) return std::nullopt;
  std::string line = std::move(impl_->partial);
  impl_->partial.clear();
  return test(line);
}

}  // namespace sbx
