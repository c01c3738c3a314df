#include "cli/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "cli/output.hpp"
#include "common/atomic_file.hpp"
#include "common/duration.hpp"
#include "common/spawn_session.hpp"
#include "proto/frame.hpp"
#include "proto/message.hpp"

extern char** environ;

namespace sbx::cli {
namespace json = boost::json;

namespace {

constexpr std::string_view kNoDaemon = "no daemon is running for ";

/// connect(2) to the socket; returns the fd or sets `err` to errno.
UniqueFd try_connect(const std::string& path, int& err) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    err = errno;
    return {};
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    err = errno;
    return {};
  }
  return fd;
}

std::string last_log_line(const std::string& log) {
  auto text = read_file(log);
  if (!text || text->empty()) return "";
  std::string t = *text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

/// A daemon that is going (its socket gone, its pid files still locked: `daemon stop` or
/// `restart` a moment ago) is waited for, at most `patience_ms`, so that the new one is not
/// refused for it.
void wait_for_going_daemon(const Paths& paths, int patience_ms) {
  for (const auto* file : {&paths.pid_file, &paths.state_pid_file}) {
    for (int waited = 0; waited < patience_ms; waited += 10) {
      UniqueFd fd(::open(file->c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd || ::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) break;
      timespec ts{0, 10'000'000};
      ::nanosleep(&ts, nullptr);
    }
  }
}

/// Spawns sbxd detached (its own session) and waits, at most `patience_ms`, for its ready byte.
Status start_daemon(const Paths& paths, int patience_ms) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0)
    return make_error(Errc::unavailable, std::string("pipe: ") + std::strerror(errno));
  UniqueFd ready_read(ready[0]);
  UniqueFd ready_write(ready[1]);
  if (auto st = ensure_dir(paths.state_dir); !st)
    return make_error(Errc::unavailable, st.error().message);
  UniqueFd log(::open(paths.daemon_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));

  std::string program = sibling_program("sbxd", "SBX_DAEMON");
  std::vector<std::string> argv{program, "--ready-fd=3"};
  if (paths.state_dir == paths.runtime_dir + "/state")
    argv.push_back("--home=" + paths.runtime_dir);
  pid_t pid = -1;
  int rc = spawn_in_session(
      {program, argv, environ, {-1, -1, log ? log.get() : -1, ready_write.get()}}, pid);
  if (rc != 0) {
    return make_error(Errc::unavailable, "cannot start the daemon " + program + ": " +
                                             std::strerror(rc) +
                                             " (install sbxd next to sbx or set SBX_DAEMON)");
  }
  ready_write.reset();
  pollfd p{ready_read.get(), POLLIN, 0};
  int n = ::poll(&p, 1, patience_ms);
  char c = 0;
  if (n == 1 && ::read(ready_read.get(), &c, 1) == 1 && c == '\n') return ok_status();
  std::string why = last_log_line(paths.daemon_log);
  return make_error(Errc::unavailable,
                    n == 0 ? "the daemon did not become ready within " +
                                 format_duration(Millis(patience_ms)) + "; see " + paths.daemon_log
                           : "the daemon failed to start" + (why.empty() ? "" : ": " + why));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// "sbxd (pid N)" from the pid file, or "sbxd".
std::string daemon_name(const Paths& paths) {
  auto text = read_file(paths.pid_file);
  std::string pid = text ? *text : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "sbxd" : "sbxd (pid " + pid + ")";
}

/// The local paths of the target: those of SBX_HOME, or of the folder of the socket that
/// unix://SOCKET names.
Result<Paths> local_paths(const HostUrl& host) {
  auto paths = resolve_paths();
  if (!paths || host.socket.empty() || host.socket == paths->socket) return paths;
  const std::string_view name = "/sbxd.sock";
  if (!host.socket.ends_with(name))
    return make_error(Errc::usage, "unix://" + host.socket +
                                       " is no daemon's socket: name FOLDER/sbxd.sock (the "
                                       "socket of SBX_HOME=FOLDER)");
  return resolve_paths(host.socket.substr(0, host.socket.size() - name.size()));
}

}  // namespace

Result<Client> Client::connect_remote(const HostUrl& host, bool start) {
  UniqueFd fd;
  auto link = SshLink::open(host, start, fd);
  if (!link) return link.error();
  Client c(std::move(fd), Paths{});
  c.host_ = host;
  c.ssh_ = std::move(*link);
  c.hello_timeout_ms_ = kRemotePatienceMs;
  if (!start) {  // greet now: "no daemon" comes from dial-stdio --no-start before any HELLO
    auto greeted = c.stream({}, {}, [](std::uint8_t, std::string_view) {});
    if (!greeted) return greeted.error();
    c.hello_sent_ = true;
  }
  return c;
}

std::string Client::log_hint() const {
  return ssh_ ? "its sbxd.log on " + host_.name() : paths_.daemon_log;
}

Error Client::lose_link(int timed_out_ms) {
  Error e = ssh_->failure(host_, timed_out_ms);
  lost_ = e.code == Errc::unavailable;  // a host that has no sbx, a bad host key: final
  return e;
}

Result<Client> Client::connect(bool start, int patience_ms) {
  const auto& host = target_host();
  if (!host) return host.error();
  if (host->remote) return connect_remote(*host, start);
  auto paths = local_paths(*host);
  if (!paths) {
    return paths.error().code == Errc::usage ? paths.error()
                                             : make_error(Errc::unavailable, paths.error().message);
  }
  auto fd = connect_socket(*paths, start, patience_ms);
  if (!fd) return fd.error();
  return Client(std::move(*fd), *paths);
}

bool Client::no_daemon(const Error& e) {
  // From another host this comes as dial-stdio --no-start's line on ssh's stderr.
  return e.code == Errc::unavailable && e.message.find(kNoDaemon) != std::string::npos;
}

Result<UniqueFd> Client::connect_socket(const Paths& paths, bool start, int patience_ms) {
  int err = 0;
  if (UniqueFd fd = try_connect(paths.socket, err)) return fd;
  if (err != ENOENT && err != ECONNREFUSED) {
    return make_error(Errc::unavailable,
                      "cannot reach sbxd at " + paths.socket + ": " + std::strerror(err));
  }
  if (!start) return make_error(Errc::unavailable, std::string(kNoDaemon) + paths.runtime_dir);
  if (auto st = ensure_private_dir(paths.runtime_dir); !st)
    return make_error(Errc::unavailable, st.error().message);
  UniqueFd lock(::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock || ::flock(lock.get(), LOCK_EX) != 0) {
    return make_error(Errc::unavailable, "cannot lock " + paths.lock + ": " + std::strerror(errno));
  }
  // Retry under the lock: another client may have started the daemon between our
  // connect() and flock().
  if (UniqueFd fd = try_connect(paths.socket, err)) return fd;
  wait_for_going_daemon(paths, patience_ms);
  if (auto st = start_daemon(paths, patience_ms); !st) return st.error();
  if (UniqueFd fd = try_connect(paths.socket, err)) return fd;
  return make_error(Errc::unavailable, "the daemon started but " + paths.socket +
                                           " refuses connections: " + std::strerror(err));
}

Result<json::value> Client::call(std::string_view op, json::object args, const TickFn& on_tick) {
  return stream(
      op, std::move(args), [](std::uint8_t, std::string_view) {}, {}, on_tick);
}

Error Client::lose(std::string message) {
  lost_ = true;
  return make_error(Errc::unavailable, std::move(message));
}

Result<json::value> Client::stream(std::string_view op, json::object args, const DataFn& on_data,
                                   const EventFn& on_event, const TickFn& on_tick,
                                   const ChunkFn& on_chunk) {
  using Clock = std::chrono::steady_clock;
  lost_ = false;
  if (!hello_sent_) hello_seen_ = false;
  json::object req;
  req["op"] = op;
  req["args"] = std::move(args);
  std::string body = json::serialize(req);
  if (body.size() > proto::kMaxRequestPayload) {
    return make_error(Errc::failed, "the " + std::string(op) + " request is " +
                                        std::to_string(body.size()) + " bytes, more than the " +
                                        std::to_string(proto::kMaxRequestPayload) +
                                        " bytes sbxd accepts");
  }
  std::string out;
  if (!hello_sent_)
    proto::encode_frame(out, proto::FrameKind::hello, 0, proto::hello_payload("sbx"));
  if (!op.empty()) proto::encode_frame(out, proto::FrameKind::request, 0, body);
  // A daemon that refuses the request (too large for it, malformed) answers why and closes
  // without reading the rest: its reply, not the broken pipe, is the answer.
  int send_errno = write_all(fd_.get(), out) ? 0 : errno;
  if (send_errno != 0 && send_errno != EPIPE && send_errno != ECONNRESET) {
    return lose(std::string("cannot send to sbxd: ") + std::strerror(send_errno));
  }
  auto hello_deadline = Clock::now() + std::chrono::milliseconds(hello_timeout_ms_);
  proto::FrameReader reader(std::size_t{1} << 30);
  // Not zeroed: read() fills what is used (a zeroed 64 KiB was a fifth of `sbx status`).
  constexpr std::size_t kReadSize = 1 << 16;
  auto buf = std::make_unique_for_overwrite<char[]>(kReadSize);
  for (;;) {
    while (auto f = reader.next()) {
      switch (f->kind) {
        case proto::FrameKind::hello:
          if (auto st = ssh_ ? proto::check_hello(f->payload, "sbxd", " on " + host_.name(),
                                                  "install the same sbx on both hosts")
                             : proto::check_hello(f->payload, "sbxd");
              !st)
            return st.error();
          hello_seen_ = true;
          if (op.empty()) return json::value(nullptr);  // connect() greeting
          break;
        case proto::FrameKind::data:
          on_data(f->flags, f->payload);
          break;
        case proto::FrameKind::chunk: {
          auto c = proto::decode_chunk(f->payload);
          if (!c)
            return make_error(Errc::protocol,
                              "bad frame from sbxd: a chunk whose runs do not add up");
          if (on_chunk)
            on_chunk(f->flags, *c);
          else
            on_data(f->flags, c->bytes);
          break;
        }
        case proto::FrameKind::event:
          if (on_event) {
            if (auto ev = proto::parse_json(f->payload)) on_event(*ev);
          }
          break;
        case proto::FrameKind::response:
        case proto::FrameKind::end:
          if (reply_text_) return proto::decode_reply_text(f->payload, *reply_text_);
          return proto::decode_reply(f->payload);
        default:
          return make_error(Errc::protocol, "unexpected frame from sbxd");
      }
    }
    if (reader.failed())
      return make_error(Errc::protocol, "bad frame from sbxd: " + reader.error());
    // Block in poll() on the socket (and the watched reader): no wake-ups but the ticks
    // and the HELLO deadline.
    int timeout = on_tick ? kTickMs : -1;
    if (!hello_seen_) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(hello_deadline - Clock::now()).count();
      if (left <= 0) {
        if (ssh_) return lose_link(hello_timeout_ms_);
        return lose(daemon_name(paths_) + " does not answer: no reply within " +
                    format_duration(Millis(hello_timeout_ms_)) + "; see " + paths_.daemon_log);
      }
      timeout = timeout < 0 ? static_cast<int>(left) : std::min(timeout, static_cast<int>(left));
    }
    // A negative fd is skipped by poll(2).
    pollfd p[4] = {{fd_.get(), POLLIN, 0},
                   {watch_fd_, 0, 0},
                   {input_fd_, POLLIN, 0},
                   {ssh_ ? ssh_->stderr_fd() : -1, POLLIN, 0}};
    int ready = ::poll(p, 4, timeout);
    if (ready < 0 && errno != EINTR)
      return make_error(Errc::unavailable, std::string("poll: ") + std::strerror(errno));
    if (p[3].revents) {
      ssh_->drain();  // what ssh says is kept for an error, and never blocks it
      if (!(p[0].revents | p[1].revents | p[2].revents)) continue;
    }
    if (input_fd_ >= 0 && p[2].revents) {
      on_input_();
      if (!(p[0].revents | p[1].revents)) continue;
    }
    if (watch_fd_ >= 0 && p[1].revents) {
      if (p[1].revents & POLLNVAL)
        watch_fd_ = -1;  // not open: nothing to watch
      else
        exit_as_if_sigpipe();  // POLLERR/POLLHUP: the reader is gone
    }
    if (ready <= 0 || !(p[0].revents)) {
      if (ready == 0 && on_tick) on_tick();
      continue;
    }
    ssize_t n = ::read(fd_.get(), buf.get(), kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 && ssh_ && !hello_seen_) return lose_link(0);
    if (n <= 0 && send_errno != 0)
      return lose(std::string("cannot send to sbxd: ") + std::strerror(send_errno));
    if (n < 0)
      return lose("lost the connection to sbxd: " + std::string(std::strerror(errno)) + "; see " +
                  log_hint());
    if (n == 0) {
      return lose(hello_seen_ ? "sbxd closed the connection before answering; see " + log_hint()
                              : "sbxd did not answer; see " + log_hint());
    }
    reader.feed(std::string_view(buf.get(), static_cast<size_t>(n)));
  }
}

}  // namespace sbx::cli
