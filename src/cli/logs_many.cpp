// sbx logs ID ID..., --session S, --all: one follower thread per process, each with its own
// request (so each resumes on its own after a daemon restart, from its own offsets, and
// is paced by its own connection); the main thread merges what they receive by write
// time (LogMerge) and prints it (ManyPrinter). With -f and --session/--all, processes
// that start meanwhile are looked for every kPollNew, and once more before the end.

#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_many_printer.hpp"
#include "cli/log_merge.hpp"
#include "cli/log_position.hpp"
#include "cli/log_printer.hpp"
#include "cli/logs_args.hpp"
#include "cli/output.hpp"
#include "cli/waiting.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "proto/bytes.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_records.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

/// Bytes a follower may have waiting to be printed before it stops reading its daemon.
constexpr std::size_t kQueueMax = 1 << 20;
constexpr auto kPollNew = std::chrono::milliseconds(250);

struct Shared {
  std::mutex m;
  std::condition_variable cv;
  LogMerge merge;
  std::vector<std::string> ids;  ///< by source
  std::set<std::string> seen;
  std::vector<json::value> ends;  ///< the record each follower ended with
  std::vector<std::thread> threads;
  std::optional<Error> error;  ///< the first follower's that failed
  int exit_code = kExitOk;     ///< of a follower that failed and said why
  bool stop = false;
};

void follow_one(Shared& sh, std::size_t src, proto::LogsRequest req, bool json_out) {
  Position pos;
  auto push = [&](std::uint8_t stream, const proto::Chunk& c) {
    pos.at[stream == proto::kStreamStderr ? 1 : 0] += static_cast<std::int64_t>(c.bytes.size());
    std::unique_lock lock(sh.m);
    sh.cv.wait(lock, [&] { return sh.merge.queued_bytes(src) < kQueueMax; });
    std::size_t at = 0;
    for (const auto& run : c.runs) {
      sh.merge.push(src, stream, run.time_ns, std::string(c.bytes.substr(at, run.length)));
      at += run.length;
    }
    sh.cv.notify_all();
  };
  auto on_data = [&](std::uint8_t stream, std::string_view bytes) {  // an older daemon's DATA
    push(stream, proto::Chunk{0, {{0, static_cast<std::uint32_t>(bytes.size())}}, bytes});
  };
  Result<json::value> v = make_error(Errc::failed, "");
  int code = kExitOk;
  if (req.follow) {
    WaitingCall::Hooks hooks;
    hooks.on_data = on_data;
    hooks.on_chunk = push;
    hooks.on_event = [&](const json::value& ev) {
      if (const auto* t = ev.as_object().if_contains("type");
          t && t->is_string() && t->get_string() == proto::kCaughtUpEvent) {
        std::lock_guard lock(sh.m);
        sh.merge.caught_up(src);
        sh.cv.notify_all();
        return;
      }
      pos.on_event(ev, [&](int k, std::int64_t bytes) {
        const char* stream = k == 1 ? "stderr" : "stdout";
        if (!json_out) return emit(2, dropped_line(req.id, stream, bytes));
        emit(1, json::serialize(dropped_event(req.id, stream, bytes)) + "\n");
      });
    };
    hooks.watch_fd = 1;
    WaitingCall call(proto::LogsRequest::kOp, std::nullopt, pos.request_of(req), std::move(hooks));
    v = call.run();
    if (!v) code = call.fail(v.error());
  } else if (auto client = Client::connect(); !client) {
    v = client.error();
  } else {
    client->watch_reader(1);
    v = client->stream(proto::LogsRequest::kOp, req.to_json(), on_data, {}, {}, push);
  }
  std::lock_guard lock(sh.m);
  if (!v && code != kExitOk && sh.exit_code == kExitOk) sh.exit_code = code;
  if (!v && code == kExitOk && !sh.error) sh.error = v.error();
  if (v) sh.ends[src] = std::move(*v);
  sh.merge.done(src);
  sh.cv.notify_all();
}

/// Starts following the processes of `ids` not followed yet. Called with sh.m held.
void add_ids(Shared& sh, const std::vector<std::string>& ids, const proto::LogsRequest& base,
             bool json_out) {
  for (const auto& id : ids) {
    if (!sh.seen.insert(id).second) continue;
    std::size_t src = sh.merge.add_source();
    sh.ids.push_back(id);
    sh.ends.emplace_back();
    auto req = base;
    req.id = id;
    sh.threads.emplace_back([&sh, src, req, json_out] { follow_one(sh, src, req, json_out); });
  }
}

/// The ids of the processes of a session (every process when nullopt), oldest first; only
/// those `take` takes, if given.
Result<std::vector<std::string>> list_ids(const std::optional<std::string>& session,
                                          const std::function<bool(const std::string&)>& take) {
  auto client = Client::connect();
  if (!client) return client.error();
  proto::PsRequest ps;
  ps.session = session;
  ps.brief = true;
  auto v = client->call(proto::PsRequest::kOp, ps.to_json());
  if (!v) return v.error();
  std::vector<std::string> ids;
  if (v->is_array()) {
    for (const auto& r : v->get_array()) {
      auto rec = record_from_json(r);
      if (rec && (!take || take(rec->id))) ids.push_back(rec->id);
    }
  }
  return ids;
}

/// The explicit ids, each checked with the daemon: an unknown one is its "no process" error.
Result<std::vector<std::string>> check_ids(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (auto st = check_id(id); !st) return st.error();
  }
  for (const auto& id : ids) {  // one request per connection
    auto client = Client::connect();
    if (!client) return client.error();
    proto::ShowRequest show;
    show.id = id;
    if (auto v = client->call(proto::ShowRequest::kOp, show.to_json()); !v) return v.error();
  }
  return ids;
}

/// Printed lines, written together while they go to one fd: one write(2) for many lines,
/// and the order across fd 1 and fd 2 kept (2>&1 sees them as they were merged).
class Batch {
 public:
  explicit Batch(ManyPrinter::Out out) : out_(std::move(out)) {}
  void put(int fd, std::string_view bytes) {
    if (fd != fd_ || buf_.size() >= kFlushAt) flush();
    fd_ = fd;
    buf_.append(bytes);
  }
  void flush() {
    if (!buf_.empty()) out_(fd_, buf_);
    buf_.clear();
  }

 private:
  static constexpr std::size_t kFlushAt = 64 << 10;
  ManyPrinter::Out out_;
  int fd_ = 1;
  std::string buf_;
};

}  // namespace

Result<int> run_logs_many(const LogsArgs& a, const proto::LogsRequest& base,
                          const ManyHooks& hooks) {
  if ((!a.ids.empty()) + !a.session.empty() + a.all > 1)
    return make_error(Errc::usage, "give ids, --session or --all: one of them");
  std::optional<std::string> session;
  if (!a.session.empty()) session = a.session;
  bool watch_new = a.follow && a.ids.empty();
  auto ids = a.ids.empty() ? list_ids(session, hooks.take) : check_ids(a.ids);
  if (!ids) return ids.error();
  if (ids->empty()) {
    emit(2, session ? "sbx: no process in session '" + *session + "'\n"
                    : std::string("sbx: no process\n"));
    return kExitOk;
  }
  ManyPrinter::Out out = hooks.out;
  if (!out) out = [](int fd, std::string_view bytes) { emit(fd, bytes); };
  Batch batch(out);
  ManyPrinter printer({a.json, a.timestamps, a.only_stdout || a.only_stderr, many_color_for(1)},
                      [&batch](int fd, std::string_view bytes) { batch.put(fd, bytes); });
  printer.widen(hooks.width);
  std::size_t printed_sources = 0;
  Shared sh;
  std::unique_lock lock(sh.m);
  add_ids(sh, *ids, base, a.json);
  std::thread watcher;
  if (watch_new) {
    watcher = std::thread([&] {
      std::unique_lock l(sh.m);
      while (!sh.cv.wait_for(l, kPollNew, [&] { return sh.stop; })) {
        l.unlock();
        auto now = list_ids(session, hooks.take);
        l.lock();
        if (now && !sh.stop) add_ids(sh, *now, base, a.json);
      }
    });
  }
  bool last_look = watch_new;
  for (;;) {
    for (; printed_sources < sh.ids.size(); ++printed_sources) printer.add(sh.ids[printed_sources]);
    if (auto r = sh.merge.pop()) {
      std::optional<ProcessRecord> end;
      if (r->end) {
        if (auto rec = record_from_json(sh.ends[r->source]); rec && rec->ended()) end = *rec;
      }
      const std::string id = sh.ids[r->source];
      sh.cv.notify_all();  // room in its queue
      lock.unlock();
      if (!r->end) {
        printer.run(r->source, r->stream, r->time_ns, r->bytes);
      } else {
        printer.end(r->source);
        if (a.json && end) batch.put(1, json::serialize(exit_event(id, *end)) + "\n");
        batch.flush();  // all of its output is out
        if (hooks.on_end) hooks.on_end(id);
      }
      lock.lock();
      continue;
    }
    if (sh.merge.drained()) {
      batch.flush();
      if (!last_look) {
        sh.stop = true;  // under the lock: the watcher adds none from now on
        break;
      }
      // One more look, for a process started since the last: none is missed at the end.
      last_look = false;
      lock.unlock();
      auto now = list_ids(session, hooks.take);
      lock.lock();
      if (now) add_ids(sh, *now, base, a.json);
      continue;
    }
    lock.unlock();
    batch.flush();  // nothing more to print for now
    lock.lock();
    if (!sh.merge.drained() && !sh.merge.ready()) sh.cv.wait(lock);
  }
  sh.cv.notify_all();
  lock.unlock();
  if (watcher.joinable()) watcher.join();
  for (auto& t : sh.threads) t.join();
  if (sh.error) return *sh.error;
  return sh.exit_code;
}

}  // namespace sbx::cli
