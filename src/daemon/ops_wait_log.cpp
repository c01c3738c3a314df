#include <boost/json/array.hpp>

#include "common/duration.hpp"
#include "common/ids.hpp"
#include "common/line_matcher.hpp"
#include "daemon/log_session.hpp"
#include "daemon/ops.hpp"
#include "proto/bytes.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace json = boost::json;

namespace {

struct WaitLog {
  Context& ctx;
  ConnPtr conn;
  std::string id;
  std::string pattern;
  std::vector<LineMatcher> matchers;  ///< [0] stdout, [1] stderr
  std::shared_ptr<LogSession> session;
  Timers::Id timer = 0;
  bool answered = false;

  void answer(const Result<json::value>& r) {
    if (answered) return;
    answered = true;
    ctx.timers.cancel(timer);
    if (session) session->stop();
    conn->reply(r);
  }

  void found(const LineMatch& m, std::uint8_t stream) {
    json::object o;
    o["line"] = proto::bytes_to_json(m.line);  // output is bytes (proto/bytes.hpp)
    json::array groups;
    for (const auto& g : m.groups) groups.push_back(proto::bytes_to_json(g));
    o["match"] = std::move(groups);
    o["stream"] = stream == proto::kStreamStderr ? "stderr" : "stdout";
    answer(json::value(std::move(o)));
  }
};

}  // namespace

void op_wait_log(Context& ctx, const json::object& args, const ConnPtr& conn) {
  auto id = proto::get_string(args, "id");
  if (!id) return conn->reply(id.error());
  if (auto st = check_id(*id); !st) return conn->reply(st.error());
  if (!ctx.supervisor.find(*id)) return conn->reply(make_error(Errc::not_found, "no process '" + *id + "': see 'sbx ps'"));
  auto pattern = proto::get_opt_bytes(args, "pattern");
  if (!pattern) return conn->reply(make_error(Errc::protocol, "request lacks string 'pattern'"));
  bool regex = proto::get_bool(args, "regex");
  std::string stream = proto::get_opt_string(args, "stream").value_or("both");
  if (stream != "both" && stream != "stdout" && stream != "stderr") {
    return conn->reply(make_error(Errc::usage, "--stream takes stdout or stderr"));
  }
  auto w = std::make_shared<WaitLog>(WaitLog{ctx, conn, *id, *pattern, {}, nullptr, 0, false});
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
  std::weak_ptr<WaitLog> weak = w;
  auto sink = [weak](std::uint8_t s, std::string_view bytes) {
    auto w = weak.lock();
    if (!w || w->answered) return;
    if (auto m = w->matchers[s == proto::kStreamStderr ? 1 : 0].feed(bytes)) w->found(*m, s);
  };
  auto session = LogSession::open(ctx, spec, sink, nullptr);
  if (!session) return conn->reply(session.error());
  w->session = *session;
  if (auto t = proto::get_opt_int(args, "timeout_ms")) {
    w->timer = ctx.timers.after(Millis(*t), [weak, t = *t] {
      if (auto w = weak.lock()) {
        w->answer(make_error(Errc::timeout, "no line of '" + w->id + "' matched '" + w->pattern + "' within " +
                                                format_duration(Millis(t))));
      }
    });
  }
  conn->on_close([w] {
    w->ctx.timers.cancel(w->timer);
    if (w->session) w->session->stop();
  });
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
    w->answer(make_error(Errc::failed, "'" + w->id + "' ended (" + how + ") before a line matched '" + w->pattern + "'"));
  });
}

}  // namespace sbx::daemon
