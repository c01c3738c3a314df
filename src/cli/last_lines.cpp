#include "cli/last_lines.hpp"

#include <string_view>

#include "cli/client.hpp"
#include "cli/output.hpp"
#include "common/record_json.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {

void print_last_lines(const std::string& id) {
  auto client = Client::connect(false);
  if (!client) return;
  proto::LogsRequest req;
  req.id = id;
  req.tail = kLastLines;
  std::string text;
  std::uint8_t last_stream = 0;
  auto on_data = [&](std::uint8_t stream, std::string_view bytes) {
    // A line one stream left unfinished ends where the other stream's bytes begin.
    if (stream != last_stream && !text.empty() && text.back() != '\n') text += '\n';
    last_stream = stream;
    text += bytes;
  };
  auto v = client->stream(proto::LogsRequest::kOp, req.to_json(), on_data);
  if (!v) return;
  auto rec = record_from_json(*v);
  if (!rec || !rec->ended()) return;
  if (text.empty()) {
    write_out(2, "sbx: '" + id + "' wrote no output\n");
    return;
  }
  if (text.back() != '\n') text += '\n';
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    out += "  | ";
    out.append(text, at, nl + 1 - at);
    at = nl + 1;
  }
  write_out(2, "sbx: the end of its output (sbx logs " + id + " -n " + std::to_string(kLastLines) +
                   "):\n" + out);
}

}  // namespace sbx::cli
