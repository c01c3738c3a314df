#include "common/sock_diag.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "common/fd.hpp"

namespace sbx {
namespace {

constexpr unsigned kTcpListen = 10;      // TCP_LISTEN
constexpr unsigned kUdpUnconnected = 7;  // TCP_CLOSE: bound, no peer

/// One dump of one family and protocol into `out`; false when the kernel refused it.
bool dump(int fd, int family, int protocol, unsigned state, std::vector<Listener>& out) {
  struct {
    nlmsghdr nh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nh.nlmsg_len = sizeof msg;
  msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nh.nlmsg_seq = 1;
  msg.req.sdiag_family = static_cast<__u8>(family);
  msg.req.sdiag_protocol = static_cast<__u8>(protocol);
  msg.req.idiag_states = 1u << state;
  if (::send(fd, &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg)) return false;
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    auto len = static_cast<unsigned>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) return false;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
        continue;
      const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      int port = ntohs(d->id.idiag_sport);
      if (port == 0 || d->id.idiag_dport != 0 || d->idiag_inode == 0) continue;
      char text[INET6_ADDRSTRLEN];
      if (!::inet_ntop(family, d->id.idiag_src, text, sizeof text)) continue;
      out.push_back(Listener{protocol == IPPROTO_TCP ? "tcp" : "udp", text, port, d->idiag_inode});
    }
  }
}

}  // namespace

std::optional<std::vector<Listener>> diag_listeners(bool with_udp) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd) return std::nullopt;
  std::vector<Listener> out;
  for (int family : {AF_INET, AF_INET6}) {
    if (!dump(fd.get(), family, IPPROTO_TCP, kTcpListen, out)) return std::nullopt;
    if (with_udp && !dump(fd.get(), family, IPPROTO_UDP, kUdpUnconnected, out)) return std::nullopt;
  }
  return out;
}

}  // namespace sbx
