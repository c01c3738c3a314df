#pragma once
// The CLI's side of the protocol: reach the daemon (starting it on first use), send one
// request, read its reply or stream.

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "cli/host.hpp"
#include "cli/ssh_transport.hpp"
#include "common/fd.hpp"
#include "common/paths.hpp"
#include "common/result.hpp"
#include "proto/frame.hpp"

namespace sbx::cli {

/// How long sbx waits for a daemon: for a starting one to become ready, for one to say
/// HELLO, and, once a waiting command lost its daemon, for another to answer.
inline constexpr int kDaemonPatienceMs = 10'000;

class Client {
 public:
  using DataFn = std::function<void(std::uint8_t stream, std::string_view bytes)>;
  /// A CHUNK frame: log bytes in runs, each with its write time (proto/frame.hpp).
  using ChunkFn = std::function<void(std::uint8_t stream, const proto::Chunk& chunk)>;
  using EventFn = std::function<void(const boost::json::value& event)>;
  /// Called about every kTickMs while waiting for the daemon (a progress indicator).
  using TickFn = std::function<void()>;
  static constexpr int kTickMs = 100;

  /// Connects to the daemon of the current SBX_HOME; when none runs and `start_daemon`,
  /// starts one (one per home, however many clients race) and waits, at most
  /// `patience_ms`, until it listens. With another host (host.hpp), it starts ssh to it
  /// instead, and the remote `sbx dial-stdio` does the same there; without
  /// `start_daemon` it also waits for the remote daemon's HELLO, so that "no daemon"
  /// is known here as it is locally.
  static Result<Client> connect(bool start_daemon = true, int patience_ms = kDaemonPatienceMs);
  /// This machine's daemon of `paths` (as connect does): the connected socket.
  static Result<UniqueFd> connect_socket(const Paths& paths, bool start_daemon, int patience_ms);

  /// One request, one reply.
  Result<boost::json::value> call(std::string_view op, boost::json::object args,
                                  const TickFn& on_tick = {});
  /// One request, one reply, whose result is returned as the daemon's JSON text
  /// (proto::decode_reply_text).
  Result<std::string> call_text(std::string_view op, boost::json::object args) {
    std::string text;
    reply_text_ = &text;
    auto r = call(op, std::move(args));
    reply_text_ = nullptr;
    if (!r) return r.error();
    return text;
  }
  /// A streaming request: DATA and EVENT frames go to the callbacks until the final frame,
  /// whose result is returned. It waits in poll(); with `on_tick`, it calls on_tick
  /// whenever kTickMs pass without a frame. CHUNK frames go to `on_chunk`, else (their
  /// time dropped) to on_data.
  Result<boost::json::value> stream(std::string_view op, boost::json::object args,
                                    const DataFn& on_data, const EventFn& on_event = {},
                                    const TickFn& on_tick = {}, const ChunkFn& on_chunk = {});

  /// The daemon must say HELLO within this many ms of the request, or it "does not answer"
  /// (over ssh: at least kRemotePatienceMs).
  void set_hello_timeout(int ms) {
    hello_timeout_ms_ = ssh_ ? std::max(ms, kRemotePatienceMs) : ms;
  }
  /// While waiting, also watch `fd` (stdout): once its reader is gone (a closed pipe), sbx
  /// ends at once as SIGPIPE would end it, without waiting for more output to fail on.
  void watch_reader(int fd) { watch_fd_ = fd; }
  /// While waiting, also watch `fd` (a signalfd) and call `on_input` whenever it is
  /// readable: on_input reads it, and may make calls of its own over other connections.
  void watch_input(int fd, std::function<void()> on_input) {
    input_fd_ = fd;
    on_input_ = std::move(on_input);
  }

  /// A connect(false) that failed because no daemon runs (here, or on the other host),
  /// not because it could not be reached.
  static bool no_daemon(const Error& e);

  /// After a failed stream(): true when the daemon was lost (the connection broke before
  /// the final frame, or no HELLO came in time) rather than answering with an error.
  bool lost() const { return lost_; }
  /// The daemon said HELLO on this connection.
  bool answered() const { return hello_seen_; }

  const Paths& paths() const { return paths_; }

 private:
  Client(UniqueFd fd, Paths paths) : fd_(std::move(fd)), paths_(std::move(paths)) {}
  static Result<Client> connect_remote(const HostUrl& host, bool start_daemon);
  Error lose(std::string message);
  /// The ssh link ended or gave nothing in time before the HELLO: why, as one line.
  Error lose_link(int timed_out_ms);
  /// Where to read more: sbxd.log here, or on the other host.
  std::string log_hint() const;
  UniqueFd fd_;
  Paths paths_;
  int hello_timeout_ms_ = kDaemonPatienceMs;
  int watch_fd_ = -1;
  int input_fd_ = -1;
  std::function<void()> on_input_;
  bool lost_ = false;
  bool hello_seen_ = false;
  bool hello_sent_ = false;     ///< connect() already greeted (a remote daemon, no start)
  std::optional<SshLink> ssh_;  ///< over ssh: the link, and the host it goes to
  HostUrl host_;
  std::string* reply_text_ = nullptr;  ///< set by call_text: the reply is kept as text there
};

}  // namespace sbx::cli
