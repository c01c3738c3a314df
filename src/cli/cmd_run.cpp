// run: start a command, print its output as it comes, exit with its exit status.

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_position.hpp"
#include "cli/output.hpp"
#include "cli/start_request.hpp"
#include "cli/waiting.hpp"
#include "common/defaults.hpp"
#include "common/fd.hpp"
#include "common/record_json.hpp"
#include "common/signal_names.hpp"
#include "proto/protocol.hpp"
#include "proto/requests_records.hpp"
#include "proto/requests_start.hpp"
#include "proto/requests_waits.hpp"

namespace sbx::cli {
namespace json = boost::json;

namespace {

/// A second Ctrl-C this soon after the first kills the process (SIGKILL).
constexpr auto kSecondInterrupt = std::chrono::seconds(2);

struct RunArgs {
  ProcessArgs process;
};

/// The process `sbx run` started, and what it asks of the daemon about it.
struct Ran {
  std::string id;
  bool remove = false;  ///< --rm: sbx run removes the record once it saw the end
  std::optional<std::chrono::steady_clock::time_point> interrupted;  ///< the last SIGINT

  /// Delivers `sig` to the process tree and returns at once; SIGKILL stops it for good,
  /// with no restart after (a second Ctrl-C ends a --restart always too).
  void signal(int sig) const {
    proto::KillRequest req;
    req.ids = {id};
    req.signal = sig;
    req.stop = sig == SIGKILL;
    if (req.stop) req.grace = Millis(0);
    req.wait = false;
    auto answer = call(proto::KillRequest::kOp, req.to_json());
    if (!answer)
      std::fprintf(stderr, "sbx: could not pass %s on to '%s': %s\n", signal_name(sig).c_str(),
                   id.c_str(), answer.error().message.c_str());
  }

  /// Its reader went away, so sbx run ends (exit 141): the process is stopped as a program
  /// writing into that pipe would be, TERM to its tree and KILL after the grace, rather than
  /// left running unseen; with --rm sbx run waits for that end, then removes the record.
  void reader_gone() const {
    proto::KillRequest req;
    req.ids = {id};
    req.wait = remove;
    if (call(proto::KillRequest::kOp, req.to_json()) && remove) forget();
  }

  void forget() const {
    proto::RmRequest req;
    req.ids = {id};
    if (auto r = call(proto::RmRequest::kOp, req.to_json()); !r)
      std::fprintf(stderr, "sbx: could not remove '%s' (--rm): %s\n", id.c_str(),
                   r.error().message.c_str());
  }

  /// Reads every signal that came (SIGINT, SIGTERM, SIGHUP) and passes each on.
  void on_signals(int sfd) {
    signalfd_siginfo si;
    while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGINT) {
        auto now = std::chrono::steady_clock::now();
        bool again = interrupted && now - *interrupted < kSecondInterrupt;
        interrupted = now;
        if (again) sig = SIGKILL;
        if (!again && ::isatty(2))
          std::fprintf(stderr,
                       "sbx: passed SIGINT on to '%s'; Ctrl-C again within %llds kills it\n",
                       id.c_str(), static_cast<long long>(kSecondInterrupt.count()));
      }
      signal(sig);
    }
  }

  static Result<json::value> call(std::string_view op, json::object args) {
    auto client = Client::connect();
    if (!client) return client.error();
    return client->call(op, std::move(args));
  }
};

/// sbx run's exit status for the record of an ended process: 124 when its --timeout ended
/// it (as timeout(1)), else as `sbx wait` exits.
int run_exit_code(const ProcessRecord& r) {
  if (r.reason && *r.reason == "timeout") {
    std::fprintf(stderr, "sbx: '%s' ran for its --timeout of %s and was stopped\n", r.id.c_str(),
                 format_duration(Millis(r.timeout_ms.value_or(0))).c_str());
    return kExitTimeout;
  }
  return wait_exit_code(r);
}

Result<int> run_run(const RunArgs& a) {
  // sbx run removes the record itself once it printed the end: the daemon's --rm could
  // remove a quick process, and its logs, before the follow below reaches them.
  ProcessArgs process = a.process;
  process.auto_cleanup = false;
  auto args = start_request(process, "run");
  if (!args) return args.error();

  // From before the start to the exit, the signals to pass on are blocked and read from a
  // signalfd in the follow's poll loop: none is lost, none ends sbx run half-way. SIGPIPE
  // is blocked too, so that a write to a reader that went away fails with EPIPE, and the
  // process is stopped before sbx run ends as SIGPIPE would end it.
  sigset_t forwarded, blocked;
  sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&forwarded, sig);
  blocked = forwarded;
  sigaddset(&blocked, SIGPIPE);
  if (::sigprocmask(SIG_BLOCK, &blocked, nullptr) != 0)
    return make_error(Errc::failed, std::string("sigprocmask: ") + std::strerror(errno));
  UniqueFd sfd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return make_error(Errc::failed, std::string("signalfd: ") + std::strerror(errno));

  auto client = Client::connect();
  if (!client) return client.error();
  auto started = client->call(proto::StartRequest::kOp, std::move(*args));
  if (!started) {
    const Error& e = started.error();
    if (e.code != Errc::not_started) return e;
    report(e);
    if (a.process.auto_cleanup && !e.id.empty()) Ran{e.id, true, std::nullopt}.forget();
    ProcessRecord not_started;
    not_started.status = ProcStatus::error;
    return wait_exit_code(not_started);
  }
  auto rec = record_from_json(*started);
  if (!rec) return rec.error();
  Ran ran{rec->id, a.process.auto_cleanup, std::nullopt};
  before_sigpipe_exit([&ran] { ran.reader_gone(); });

  // The logs -f stream: stdout chunks to fd 1, stderr chunks to fd 2, as they come, until
  // the process ended and its last byte was printed; through a daemon restart as logs -f.
  proto::LogsRequest req;
  req.id = ran.id;
  req.follow = true;
  Position pos;
  WaitingCall::Hooks hooks;
  hooks.on_data = [&pos](std::uint8_t stream, std::string_view bytes) {
    bool is_err = stream == proto::kStreamStderr;
    pos.at[is_err ? 1 : 0] += static_cast<std::int64_t>(bytes.size());
    emit(is_err ? 2 : 1, bytes);
  };
  hooks.on_event = [&pos, &ran](const json::value& ev) {
    pos.on_event(ev, [&ran](int k, std::int64_t bytes) {
      emit(2, dropped_line(ran.id, k == 1 ? "stderr" : "stdout", bytes));
    });
  };
  hooks.watch_fd = 1;
  hooks.input_fd = sfd.get();
  hooks.on_input = [&ran, fd = sfd.get()] { ran.on_signals(fd); };
  auto make = [&req, &pos](bool resumed, const proto::Deadline&) {
    auto r = req;
    if (resumed) pos.resume(r);
    return r.to_json();
  };
  WaitingCall call(proto::LogsRequest::kOp, std::nullopt, make, std::move(hooks));
  auto end = call.run(std::move(*client));
  before_sigpipe_exit(nullptr);
  if (!end) return call.fail(end.error());
  auto ended = record_from_json(*end);
  if (!ended) return ended.error();
  int code = run_exit_code(*ended);
  if (ran.remove) ran.forget();
  return code;
}

}  // namespace

void define_run(CommandDef& parent) {
  auto a = std::make_shared<RunArgs>();
  auto run =
      parent.add("run", "Run a command: print its output as it comes, exit with its exit status",
                 "sbx run [OPTIONS] -- CMD [ARG...]    (argv, no shell)\n"
                 "       sbx run [OPTIONS] 'SHELL LINE'       (one argument: sh -c)",
                 "sbx run -- make -j4 test\n"
                 "  sbx run --timeout 10m --rm 'npm ci && npm test'");
  run.runs([a, run]() -> Result<int> {
    if (auto st = take_command_words(a->process, run, "run"); !st) return st.error();
    return run_run(*a);
  });
  define_process_options(run, a->process, "remove its record and logs once it ended");
  run.takes_command_line();
}

}  // namespace sbx::cli
