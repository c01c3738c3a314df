#include <sys/stat.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/line_matcher.hpp"
#include "daemon/logs/session.hpp"
#include "daemon/ops/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

/// At most this often a wait-log tells its client how far it has scanned.
constexpr Millis kScannedEvery{250};

/// What a timed-out wait-log adds when the process has written nothing to stdout.
constexpr const char* kBufferedHint =
    "its stdout may be block-buffered: start it with --tty, or set PYTHONUNBUFFERED=1 / run "
    "python3 -u";

/// How much a live process has written so far, for a wait-log that timed out: "; 'web' has
/// written 0 bytes to stdout and 12 to stderr so far", with kBufferedHint when stdout is
/// searched and empty. Empty once it ended (the end has its own answer).
std::string written_so_far(Context& ctx, const std::string& id, bool stdout_searched) {
  const ProcessRecord* r = ctx.supervisor.find(id);
  if (!r || r->ended()) return "";
  std::int64_t bytes[2] = {r->collapsed_stdout, r->collapsed_stderr};  // logical = file + cut
  for (int k = 0; k < 2; ++k) {
    struct stat st {};
    if (::stat(ctx.paths.log_path(id, k == 1).c_str(), &st) == 0) bytes[k] += st.st_size;
  }
  std::string text = "; '" + id + "' has written " + std::to_string(bytes[0]) +
                     " bytes to stdout and " + std::to_string(bytes[1]) + " to stderr so far";
  if (stdout_searched && bytes[0] == 0) text += std::string(": ") + kBufferedHint;
  return text;
}

struct WaitLog {
  Context& ctx;
  ConnPtr conn;
  std::string id;
  std::string pattern;
  std::vector<LineMatcher> matchers;  ///< [0] stdout, [1] stderr
  std::shared_ptr<LogSession> session{};
  Timers::Id timer = 0;
  bool answered = false;
  std::weak_ptr<WaitLog> self{};
  // Logical offsets (LogSessionSpec::from), per stream: of the next byte to scan, of the
  // start of the line not finished yet (where a new daemon resumes: a line split across a
  // restart still matches), and the last one told to the client.
  std::int64_t next[2] = {0, 0};
  std::int64_t line_start[2] = {0, 0};
  std::int64_t told[2] = {-1, -1};
  std::chrono::steady_clock::time_point told_at{};
  Timers::Id tell_timer = 0;

  void answer(const Result<json::value>& r) { answer_once(*this, r); }

  void cleanup() {
    ctx.timers.cancel(timer);
    ctx.timers.cancel(tell_timer);
    if (session) session->stop();
  }

  void found(const LineMatch& m, std::uint8_t stream) {
    proto::WaitLogReply o;
    o.line = m.line;
    o.match = m.groups;
    o.stream = stream == proto::kStreamStderr ? "stderr" : "stdout";
    answer(o.to_json());
  }

  void starts_at(const LogSession::Offsets& o) {
    for (int k = 0; k < 2; ++k) {
      if (!o.at[k]) continue;
      if (line_start[k] == next[k]) line_start[k] = *o.at[k];  // else: inside a line still
      next[k] = *o.at[k];
    }
  }

  void scanned(int k, std::string_view bytes) {
    if (auto nl = bytes.rfind('\n'); nl != std::string_view::npos)
      line_start[k] = next[k] + static_cast<std::int64_t>(nl) + 1;
    next[k] += static_cast<std::int64_t>(bytes.size());
    tell_soon();
  }

  /// Tells the client where to resume, rate-limited: one event per kScannedEvery at most,
  /// and a timer only after output (an idle wait costs nothing).
  void tell_soon() {
    if (answered || tell_timer || (line_start[0] == told[0] && line_start[1] == told[1])) return;
    auto since = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - told_at);
    if (since >= kScannedEvery) return tell();
    tell_timer = ctx.timers.after(kScannedEvery - since, [weak = self] {
      if (auto w = weak.lock()) {
        w->tell_timer = 0;
        w->tell();
      }
    });
  }

  void tell() {
    if (answered) return;
    auto ev = proto::offsets_event(proto::kScannedEvent, {{line_start[0], line_start[1]}});
    conn->send(proto::FrameKind::event, 0, json::serialize(ev));
    told[0] = line_start[0];
    told[1] = line_start[1];
    told_at = std::chrono::steady_clock::now();
  }
};

}  // namespace

void op_wait_log(Context& ctx, const proto::WaitLogRequest& req, const ConnPtr& conn) {
  const std::string* id = &req.id;
  if (auto found = ctx.supervisor.lookup(*id); !found) return conn->reply(found.error());
  const std::string* pattern = &req.pattern;
  bool regex = req.regex;
  const std::string& stream = req.stream;
  auto w = std::make_shared<WaitLog>(WaitLog{ctx, conn, *id, *pattern, {}});
  w->self = w;
  for (int i = 0; i < 2; ++i) {
    auto m = LineMatcher::make(*pattern, regex);
    if (!m) return conn->reply(m.error());
    w->matchers.push_back(std::move(*m));
  }

  LogSessionSpec spec;
  spec.id = *id;
  spec.want_stdout = stream != "stderr";
  spec.want_stderr = stream != "stdout";
  spec.follow = true;
  spec.from[0] = req.from.at[0];  // a client resuming with a new daemon
  spec.from[1] = req.from.at[1];
  std::weak_ptr<WaitLog> weak = w;
  auto sink = [weak](std::uint8_t s, std::string_view bytes) {
    auto w = weak.lock();
    if (!w || w->answered) return;
    int k = s == proto::kStreamStderr ? 1 : 0;
    if (auto m = w->matchers[k].feed(bytes)) return w->found(*m, s);
    w->scanned(k, bytes);
  };
  auto session = LogSession::open(ctx, spec, sink, nullptr);
  if (!session) return conn->reply(session.error());
  w->session = *session;
  w->session->on_offset([weak](const LogSession::Offsets& o) {
    if (auto w = weak.lock()) w->starts_at(o);
  });
  if (auto t = req.deadline.timeout) {
    Millis asked = req.deadline.asked();
    bool stdout_searched = spec.want_stdout;
    w->timer = ctx.timers.after(*t, [weak, asked, stdout_searched] {
      if (auto w = weak.lock()) {
        w->answer(make_error(Errc::timeout, "no line of '" + w->id + "' matched '" + w->pattern +
                                                "' within " + format_duration(asked) +
                                                written_so_far(w->ctx, w->id, stdout_searched)));
      }
    });
  }
  conn->on_close([w] { w->cleanup(); });
  w->session->start([weak](const ProcessRecord& rec) {
    auto w = weak.lock();
    if (!w || w->answered) return;
    // The process ended and all its output was searched: a last line without a newline.
    for (std::uint8_t s : {proto::kStreamStdout, proto::kStreamStderr}) {
      if (auto m = w->matchers[s == proto::kStreamStderr ? 1 : 0].finish()) return w->found(*m, s);
    }
    std::string how = status_name(rec.status);
    if (rec.exit_code) how += ", exit code " + std::to_string(*rec.exit_code);
    if (rec.signal) how += ", " + *rec.signal;
    w->answer(make_error(Errc::failed, "'" + w->id + "' ended (" + how +
                                           ") before a line matched '" + w->pattern + "'"));
  });
}

}  // namespace sbx::daemon
