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

LogPrinter::LogPrinter(LogPrintOptions opts)
    : opts_(opts),
      lines_{LineAssembler(proto::kMaxDataPayload), LineAssembler(proto::kMaxDataPayload)} {}

void LogPrinter::chunk(std::uint8_t stream, const std::vector<proto::ChunkRun>& runs,
                       std::string_view bytes) {
  int k = stream == proto::kStreamStderr ? 1 : 0;
  int fd = k == 1 && !opts_.one_stream ? 2 : 1;
  if (!opts_.json && !opts_.timestamps) return emit(fd, bytes);
  std::string out;
  if (opts_.timestamps) out.reserve(bytes.size() + 64);
  std::size_t at = 0;
  for (const auto& run : runs) {
    std::string_view part = bytes.substr(at, run.length);
    at += part.size();
    if (opts_.json) {
      lines_[k].feed(run.time_ns, part, [&](std::string_view line, std::int64_t t, bool partial) {
        json_line(k, line, t, partial);
      });
      continue;
    }
    starts_[k].feed(prefix(run.time_ns), part, out);
  }
  if (!out.empty()) emit(fd, out);
}

const std::string& LogPrinter::prefix(std::int64_t time_ns) {
  if (time_ns == 0) {  // unknown (a record from before write times were kept): never made up
    prefix_second_ = -1;
    return prefix_ = "- ";
  }
  std::int64_t second = time_ns / 1'000'000'000 - (time_ns % 1'000'000'000 < 0 ? 1 : 0);
  if (second != prefix_second_) {
    prefix_ = format_rfc3339_us(time_ns) + " ";
    prefix_second_ = second;
    return prefix_;
  }
  // Same second: only the six digits of the fraction change ("...:SS.uuuuuuZ ").
  std::int64_t us = (time_ns - second * 1'000'000'000) / 1000;
  char* d = prefix_.data() + prefix_.size() - 3;
  for (int i = 0; i < 6; ++i, us /= 10) *d-- = static_cast<char>('0' + us % 10);
  return prefix_;
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
    lines_[k].finish([&](std::string_view line, std::int64_t t, bool partial) {
      json_line(k, line, t, partial);
    });
  }
}

}  // namespace sbx::cli
