#include "cli/log_printer.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <string>

#include "cli/output.hpp"
#include "common/clock.hpp"
#include "proto/protocol.hpp"

namespace sbx::cli {
namespace json = boost::json;

void emit(int fd, std::string_view bytes) {
  if (!write_out(fd, bytes) && errno == EPIPE) exit_as_if_sigpipe();
}

LogPrinter::LogPrinter(LogPrintOptions opts)
    : opts_(opts), lines_{LineAssembler(proto::kMaxDataPayload), LineAssembler(proto::kMaxDataPayload)} {}

void LogPrinter::chunk(std::uint8_t stream, std::int64_t time_ns, std::string_view bytes) {
  int k = stream == proto::kStreamStderr ? 1 : 0;
  if (opts_.json) {
    lines_[k].feed(time_ns, bytes, [&](std::string_view line, std::int64_t t, bool partial) {
      json_line(k, line, t, partial);
    });
    return;
  }
  int fd = k == 1 && !opts_.one_stream ? 2 : 1;
  if (!opts_.timestamps) return emit(fd, bytes);
  std::string out;
  out.reserve(bytes.size() + 64);
  // Unknown (a record from before write times were kept): "-", never a made-up time.
  std::string prefix = (time_ns == 0 ? std::string("-") : format_rfc3339_us(time_ns)) + " ";
  prefix_[k].feed(prefix, bytes, out);
  emit(fd, out);
}

void LogPrinter::json_line(int k, std::string_view line, std::int64_t time_ns, bool partial) {
  json::object ev;
  ev["type"] = k == 1 ? "stderr" : "stdout";
  ev["data"] = clean_[k].feed(line);
  // Without a write time (a record from before ID.index), when sbx printed it, as it was.
  ev["time"] = time_ns == 0 ? format_rfc3339(now_epoch_ms()) : format_rfc3339_us(time_ns);
  if (partial) ev["partial"] = true;
  emit(1, json::serialize(ev) + "\n");
}

void LogPrinter::finish() {
  if (!opts_.json) return;
  for (int k = 0; k < 2; ++k) {
    lines_[k].finish([&](std::string_view line, std::int64_t t, bool partial) { json_line(k, line, t, partial); });
  }
}

}  // namespace sbx::cli
