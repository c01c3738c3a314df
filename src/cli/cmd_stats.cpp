// stats: the CPU share, memory, processes and uptime of each live process's tree.

#include <time.h>
#include <unistd.h>

#include <chrono>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/stats_rows.hpp"
#include "common/ids.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

/// The CPU share is over this long: the time between two samples.
constexpr std::chrono::milliseconds kSampleInterval{1000};
/// On a terminal, -w draws each table over the last one (home, clear to the end).
constexpr const char* kRedraw = "\033[H\033[J";

struct StatsArgs {
  std::vector<std::string> ids;
  bool json = false;
  bool watch = false;
};

Result<StatsSample> sample(const json::object& args) {
  auto client = Client::connect();
  if (!client) return client.error();
  auto v = client->call(proto::StatsRequest::kOp, args);
  if (!v) return v.error();
  return parse_stats_reply(*v);
}

void sleep_until(std::chrono::steady_clock::time_point t) {
  auto left = t - std::chrono::steady_clock::now();
  if (left <= left.zero()) return;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  struct timespec ts = {static_cast<time_t>(ns / 1'000'000'000),
                        static_cast<long>(ns % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

void print(const std::vector<StatsRow>& rows, const StatsArgs& a, bool terminal, bool first) {
  if (a.json) return print_json_readable(stats_json(rows));
  std::string out = format_stats_table(rows);
  if (a.watch && terminal)
    out = kRedraw + out;
  else if (a.watch && !first)
    out = "\n" + out;
  emit(1, out);
}

Result<int> run_stats(const StatsArgs& a) {
  for (const auto& id : a.ids) {
    if (auto st = check_id(id); !st) return st.error();
  }
  auto args = proto::checked_json(proto::StatsRequest{a.ids});
  if (!args) return args.error();
  auto before = sample(*args);
  if (!before) return before.error();
  bool terminal = ::isatty(1) == 1;
  auto next = std::chrono::steady_clock::now() + kSampleInterval;
  for (bool first = true;; first = false) {
    sleep_until(next);
    next += kSampleInterval;
    auto after = sample(*args);
    // Each sample connects anew: with -w, a daemon that was replaced meanwhile answers.
    if (!after) return after.error();
    print(stats_between(*before, *after), a, terminal, first);
    if (!a.watch) return kExitOk;
    before = std::move(after);
  }
}

}  // namespace

void define_stats(CommandDef& parent) {
  auto a = std::make_shared<StatsArgs>();
  auto stats = parent.add("stats", "Show the CPU, memory and processes each live process uses",
                          "sbx stats [OPTIONS] [ID...]", "sbx stats\n  sbx stats web -w");
  stats.runs([a] { return run_stats(*a); });
  stats.option("ids", a->ids, "only these processes (default: every live one)").type_name("ID");
  stats.flag("--json", a->json, "print a JSON array of rows (with -w: one array a line)");
  stats.flag("-w,--watch", a->watch, "refresh every second until interrupted");
}

}  // namespace sbx::cli
