#include "cli/log_many_printer.hpp"

#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "common/clock.hpp"
#include "proto/protocol.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {
/// Cyan, yellow, green, magenta, blue, then their bright kin: as docker compose cycles.
constexpr const char* kColors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};
}  // namespace

bool many_color_for(int fd) {
  if (!::isatty(fd)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::string_view(term) == "dumb");
}

void ManyPrinter::add(std::string id) {
  width_ = std::max(width_, id.size());
  Source s;
  s.id = std::move(id);
  for (auto& l : s.lines) l = std::make_unique<LineAssembler>(proto::kMaxDataPayload);
  sources_.push_back(std::move(s));
}

std::string ManyPrinter::prefix(std::size_t source) const {
  const std::string& id = sources_[source].id;
  std::string p = id + std::string(width_ - std::min(width_, id.size()), ' ') + " |";
  if (opts_.color) {
    std::string c = kColors[source % (sizeof kColors / sizeof *kColors)];
    p = "\x1b[" + c + "m" + p + "\x1b[0m";
  }
  return p + " ";
}

void ManyPrinter::run(std::size_t source, std::uint8_t stream, std::int64_t time_ns,
                      std::string_view bytes) {
  int k = stream == proto::kStreamStderr ? 1 : 0;
  sources_[source].lines[k]->feed(time_ns, bytes, [&](std::string_view l, std::int64_t t, bool p) {
    line(source, k, l, t, p);
  });
}

void ManyPrinter::end(std::size_t source) {
  for (int k = 0; k < 2; ++k) {
    sources_[source].lines[k]->finish(
        [&](std::string_view l, std::int64_t t, bool p) { line(source, k, l, t, p); });
  }
}

void ManyPrinter::line(std::size_t source, int k, std::string_view text, std::int64_t time_ns,
                       bool partial) {
  Source& s = sources_[source];
  if (opts_.json) {
    json::object ev;
    ev["type"] = k == 1 ? "stderr" : "stdout";
    ev["id"] = s.id;
    ev["data"] = s.clean[k].feed(text);
    // Without a write time (a record from before ID.index), when sbx printed it, as it was.
    ev["time"] = time_ns == 0 ? format_rfc3339(now_epoch_ms()) : format_rfc3339_us(time_ns);
    if (partial) ev["partial"] = true;
    return out_(1, json::serialize(ev) + "\n");
  }
  std::string out = prefix(source);
  if (opts_.timestamps) out += time_ns == 0 ? std::string("- ") : format_rfc3339_us(time_ns) + " ";
  out += text;
  if (out.back() != '\n') out += '\n';  // a piece of a long line, or the unterminated last one
  out_(k == 1 && !opts_.one_stream ? 2 : 1, out);
}

}  // namespace sbx::cli
