#include "common/listeners.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <tuple>

#include "common/fd.hpp"
#include "common/sock_diag.hpp"

namespace sbx {
namespace {

constexpr std::string_view kTcpListen = "0A";
constexpr std::string_view kUdpUnconnected = "07";  // TCP_CLOSE: bound, no peer

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<std::uint32_t> hex32(std::string_view s) {
  if (s.empty() || s.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint32_t>(d);
  }
  return v;
}

/// "0100007F:1F90" (the kernel prints each 32-bit word of the address in host order).
std::optional<std::pair<std::string, int>> parse_endpoint(std::string_view s, bool v6) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view addr = s.substr(0, colon);
  auto port = hex32(s.substr(colon + 1));
  if (!port || *port > 65535 || addr.size() != (v6 ? 32u : 8u)) return std::nullopt;
  unsigned char bytes[16];
  for (size_t w = 0; w < addr.size() / 8; ++w) {
    auto word = hex32(addr.substr(w * 8, 8));
    if (!word) return std::nullopt;
    std::memcpy(bytes + w * 4, &*word, 4);
  }
  char text[INET6_ADDRSTRLEN];
  if (!::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof text)) return std::nullopt;
  return std::pair{std::string(text), static_cast<int>(*port)};
}

std::string read_all(const std::string& path) {
  std::string out;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string proc_dir(pid_t pid) { return pid > 0 ? "/proc/" + std::to_string(pid) : "/proc/self"; }

/// An address as 16 bytes (IPv4 as ::ffff:a.b.c.d), for comparing spellings.
std::optional<in6_addr> as_v6(const std::string& a) {
  in6_addr out{};
  in_addr v4{};
  if (::inet_pton(AF_INET6, a.c_str(), &out) == 1) return out;
  if (::inet_pton(AF_INET, a.c_str(), &v4) != 1) return std::nullopt;
  out.s6_addr[10] = out.s6_addr[11] = 0xff;
  std::memcpy(out.s6_addr + 12, &v4, 4);
  return out;
}

bool is_v4(const std::string& a) {
  in_addr v4{};
  return ::inet_pton(AF_INET, a.c_str(), &v4) == 1;
}

bool by_port(const HeldListener& a, const HeldListener& b) {
  return std::tie(a.listener.port, a.listener.proto, a.listener.address) <
         std::tie(b.listener.port, b.listener.proto, b.listener.address);
}

}  // namespace

std::vector<Listener> parse_net_table(std::string_view text, std::string_view proto, bool v6) {
  std::vector<Listener> out;
  bool tcp = proto == "tcp";
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto f = fields_of(text.substr(pos, end - pos));
    pos = end + 1;
    if (f.size() < 10 || f[0].back() != ':') continue;  // the header, or a cut line
    if (f[3] != (tcp ? kTcpListen : kUdpUnconnected)) continue;
    auto local = parse_endpoint(f[1], v6);
    auto remote = parse_endpoint(f[2], v6);
    if (!local || !remote || local->second == 0 || remote->second != 0) continue;
    char* stop = nullptr;
    std::string inode_text(f[9]);
    unsigned long long inode = std::strtoull(inode_text.c_str(), &stop, 10);
    if (*stop != '\0' || inode == 0) continue;
    out.push_back(Listener{std::string(proto), std::move(local->first), local->second, inode});
  }
  return out;
}

std::vector<Listener> read_listeners(pid_t pid, bool with_udp) {
  if (pid <= 0 || net_namespace(pid) == net_namespace(0)) {
    if (auto fast = diag_listeners(with_udp)) return std::move(*fast);
  }
  return read_proc_listeners(pid, with_udp);
}

std::vector<Listener> read_proc_listeners(pid_t pid, bool with_udp) {
  std::vector<Listener> out;
  std::string net = proc_dir(pid) + "/net/";
  for (std::string_view proto : {"tcp", "udp"}) {
    if (proto == "udp" && !with_udp) break;
    for (bool v6 : {false, true}) {
      auto part = parse_net_table(read_all(net + std::string(proto) + (v6 ? "6" : "")), proto, v6);
      out.insert(out.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    }
  }
  return out;
}

std::vector<std::uint64_t> socket_inodes(pid_t pid) {
  std::vector<std::uint64_t> out;
  std::string dir = proc_dir(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* ent = ::readdir(d)) {
    if (ent->d_name[0] == '.') continue;
    char link[64];
    ssize_t n = ::readlinkat(::dirfd(d), ent->d_name, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = '\0';
    constexpr std::string_view kPrefix = "socket:[";
    if (std::string_view(link, static_cast<size_t>(n)).substr(0, kPrefix.size()) != kPrefix)
      continue;
    unsigned long long inode = std::strtoull(link + kPrefix.size(), nullptr, 10);
    if (inode) out.push_back(inode);
  }
  ::closedir(d);
  return out;
}

std::string net_namespace(pid_t pid) {
  std::string path = proc_dir(pid) + "/ns/net";
  char link[64];
  ssize_t n = ::readlink(path.c_str(), link, sizeof link);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

bool address_covers(const std::string& address, const std::string& host) {
  if (address == "::") return true;
  if (address == "0.0.0.0") return is_v4(host) || host.starts_with("::ffff:");
  auto a = as_v6(address);
  auto h = as_v6(host);
  return a && h && std::memcmp(a->s6_addr, h->s6_addr, 16) == 0;
}

std::vector<HeldListener> held_by(const std::vector<pid_t>& pids,
                                  const std::vector<Listener>& table) {
  std::vector<HeldListener> out;
  if (table.empty()) return out;
  std::set<std::uint64_t> seen;
  for (pid_t pid : pids) {
    for (std::uint64_t inode : socket_inodes(pid)) {
      if (seen.count(inode)) continue;
      for (const auto& l : table) {
        if (l.inode != inode) continue;
        seen.insert(inode);
        out.push_back(HeldListener{l, pid});
        break;
      }
    }
  }
  std::sort(out.begin(), out.end(), by_port);
  return out;
}

std::vector<HeldListener> ListenerScan::of(const std::vector<pid_t>& pids) {
  std::map<std::string, std::vector<pid_t>> by_ns;
  for (pid_t pid : pids) {
    std::string ns = net_namespace(pid);
    if (!ns.empty()) by_ns[ns].push_back(pid);
  }
  std::vector<HeldListener> out;
  for (const auto& [ns, members] : by_ns) {
    auto it = tables_.find(ns);
    if (it == tables_.end())
      it = tables_.emplace(ns, read_listeners(members.front(), with_udp_)).first;
    auto part = held_by(members, it->second);
    out.insert(out.end(), part.begin(), part.end());
  }
  if (by_ns.size() > 1) {
    std::sort(out.begin(), out.end(), by_port);
  }
  return out;
}

std::optional<pid_t> find_socket_holder(const std::vector<std::uint64_t>& inodes) {
  if (inodes.empty()) return std::nullopt;
  DIR* d = ::opendir("/proc");
  if (!d) return std::nullopt;
  std::optional<pid_t> found;
  while (auto* ent = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    for (std::uint64_t inode : socket_inodes(static_cast<pid_t>(pid))) {
      if (std::find(inodes.begin(), inodes.end(), inode) != inodes.end())
        found = static_cast<pid_t>(pid);
    }
    if (found) break;
  }
  ::closedir(d);
  return found;
}

}  // namespace sbx
