#include "daemon/ops/port_owner.hpp"

#include <algorithm>

#include "common/listeners.hpp"
#include "common/proc.hpp"
#include "common/utf8.hpp"

namespace sbx::daemon {

namespace {

constexpr std::size_t kHolderCommandMax = 80;  // of a one-line error message

std::vector<std::string> reaching(const std::vector<HeldListener>& held, int port,
                                  const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  for (const auto& h : hosts) {
    bool covered = std::any_of(held.begin(), held.end(), [&](const HeldListener& l) {
      return l.listener.port == port && address_covers(l.listener.address, h);
    });
    if (covered) out.push_back(h);
  }
  return out;
}

std::string addresses_of(const std::vector<HeldListener>& held) {
  std::string out;
  for (const auto& h : held) out += (out.empty() ? "" : ", ") + h.listener.address;
  return out;
}

}  // namespace

OwnedPort find_owned_port(const std::function<std::vector<pid_t>()>& tree, int port,
                          const std::vector<std::string>& hosts, const std::string& who) {
  OwnedPort out;
  auto table = read_listeners(0, false);
  if (port != 0) {
    std::erase_if(table, [port](const Listener& l) { return l.port != port; });
    if (table.empty()) {
      out.detail = "nothing listens on it";
      return out;
    }
  }
  out.asked_tree = true;
  auto held = held_by(tree(), table);
  if (port == 0) {
    // The oldest socket first: inodes are handed out in order.
    std::sort(held.begin(), held.end(), [](const HeldListener& a, const HeldListener& b) {
      return a.listener.inode < b.listener.inode;
    });
    for (const auto& h : held) {
      out.hosts = reaching(held, h.listener.port, hosts);
      if (!out.hosts.empty()) {
        out.port = h.listener.port;
        return out;
      }
    }
    out.detail = held.empty() ? "'" + who + "' listens on no TCP port yet"
                              : "'" + who + "' listens only at " + addresses_of(held) +
                                    ", which no probed host reaches";
    return out;
  }
  if (held.empty()) {
    for (const auto& l : table) out.others.push_back(l.inode);
    out.detail = "it is served by another process, not by '" + who + "'";
    return out;
  }
  out.hosts = reaching(held, port, hosts);
  if (out.hosts.empty()) {
    out.detail = "'" + who + "' listens on it only at " + addresses_of(held) +
                 ", which no probed host reaches";
    return out;
  }
  out.port = port;
  return out;
}

std::string describe_holder(const std::vector<std::uint64_t>& others) {
  auto pid = find_socket_holder(others);
  if (!pid) return "a process sbx cannot inspect";
  std::string command = one_line(process_command(*pid), kHolderCommandMax);
  return "pid " + std::to_string(*pid) + (command.empty() ? "" : " (" + command + ")");
}

}  // namespace sbx::daemon
