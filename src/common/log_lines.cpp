#include "common/log_lines.hpp"

#include <algorithm>

namespace sbx {

void LineAssembler::feed(std::int64_t time_ns, std::string_view bytes, const Emit& emit) {
  while (!bytes.empty()) {
    if (pending_.empty()) pending_time_ = time_ns;
    std::size_t room = max_piece_ - pending_.size();
    std::size_t nl = bytes.substr(0, room).find('\n');
    std::size_t take = nl == std::string_view::npos ? std::min(room, bytes.size()) : nl + 1;
    if (pending_.empty() && nl != std::string_view::npos) {
      emit(bytes.substr(0, take), time_ns, false);  // a whole line in one chunk: no copy
    } else {
      pending_.append(bytes.substr(0, take));
      if (nl != std::string_view::npos || pending_.size() >= max_piece_) {
        emit(pending_, pending_time_, nl == std::string_view::npos);
        pending_.clear();
      }
    }
    bytes.remove_prefix(take);
  }
}

void LineAssembler::finish(const Emit& emit) {
  if (pending_.empty()) return;
  emit(pending_, pending_time_, false);
  pending_.clear();
}

void LinePrefixer::feed(std::string_view prefix, std::string_view bytes, std::string& out) {
  while (!bytes.empty()) {
    if (at_start_) out.append(prefix);
    std::size_t nl = bytes.find('\n');
    std::size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
    out.append(bytes.substr(0, take));
    at_start_ = nl != std::string_view::npos;
    bytes.remove_prefix(take);
  }
}

}  // namespace sbx
