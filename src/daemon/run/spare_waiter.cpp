#include "daemon/run/spare_waiter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/proc.hpp"
#include "common/spawn_session.hpp"
#include "shim/protocol.hpp"

extern char** environ;

namespace sbx::daemon {

SpareWaiter::SpareWaiter(std::string waiter_path, Timers& timers, FilePool& pool)
    : waiter_path_(std::move(waiter_path)), timers_(timers), pool_(pool) {}

SpareWaiter::~SpareWaiter() = default;

void SpareWaiter::refill() {
  idle_ = timers_.start(kSpareIdle, [this] { drop(); });
  if (socket_) return;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return;
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  ::fcntl(ours.get(), F_SETFL, O_NONBLOCK);
  // No environment of its own (its run brings one), but the sanitizers' options where sbxd
  // has them: a sanitizer build's spare reports where its daemon does.
  std::vector<char*> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && kv.substr(0, eq).ends_with("SAN_OPTIONS"))
      env.push_back(*e);
  }
  env.push_back(nullptr);
  std::vector<int> fds(waiter::kReportFd + 1, -1);  // 0-2 /dev/null
  fds[waiter::kReportFd] = theirs.get();
  pid_t pid = -1;
  std::string files_dir = pool_.next_spare_dir();
  if (int rc = spawn_in_session(
          {waiter_path_, {waiter_path_, waiter::kSpareArg, files_dir}, env.data(), fds}, pid);
      rc != 0) {
    spdlog::warn("cannot start a spare waiter {}: {}", waiter_path_, std::strerror(rc));
    return;
  }
  pid_ = pid;
  files_dir_ = std::move(files_dir);
  start_ticks_ = process_start_ticks(pid);
  socket_ = std::move(ours);
}

void SpareWaiter::drop() {
  if (socket_) pool_.add_made_by(pid_, files_dir_);
  socket_.reset();
  pid_ = -1;
  start_ticks_.reset();
}

std::optional<SpawnedWaiter> SpareWaiter::take(const std::vector<std::string>& args,
                                               const std::vector<std::string>& envp,
                                               const std::vector<int>& fds) {
  if (!socket_ || fds.size() != std::size(waiter::kSpecFds)) return std::nullopt;
  struct pollfd gone = {socket_.get(), POLLOUT, 0};
  if (::poll(&gone, 1, 0) != 1 || (gone.revents & (POLLHUP | POLLERR))) {  // killed meanwhile
    drop();
    return std::nullopt;
  }
  std::string spec(sizeof(waiter::SpecHeader), '\0');  // the header goes in once the size is known
  for (const auto* list : {&args, &envp}) {
    for (const auto& s : *list) (spec += s) += '\0';
  }
  std::size_t bytes = spec.size() - sizeof(waiter::SpecHeader);
  if (bytes > waiter::kSpecMax) return std::nullopt;
  waiter::SpecHeader h{waiter::kSpecMagic, static_cast<unsigned>(bytes),
                       static_cast<unsigned>(args.size()), static_cast<unsigned>(envp.size())};
  std::memcpy(spec.data(), &h, sizeof h);
  // Sent now, before the run is recorded: the spare makes ready while sbxd writes the
  // record, and starts the program only on the "g" of release_waiter.
  if (!send_spec(socket_.get(), spec, fds)) {  // killed meanwhile, or a full socket
    drop();
    return std::nullopt;
  }
  pool_.add_made_by(pid_, files_dir_);  // made while it waited, for the starts after this one
  SpawnedWaiter out{pid_, std::move(socket_), start_ticks_};
  pid_ = -1;
  start_ticks_.reset();
  return out;
}

bool send_spec(int socket, const std::string& spec, const std::vector<int>& fds) {
  struct iovec iov = {const_cast<char*>(spec.data()), spec.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof waiter::kSpecFds)] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof waiter::kSpecFds);
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof waiter::kSpecFds);
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  // Short: a spare that has part of a spec starts nothing.
  return n == static_cast<ssize_t>(spec.size());
}

}  // namespace sbx::daemon
