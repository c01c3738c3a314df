#include "cli/host.hpp"

#include <cstdlib>

#include "common/paths.hpp"

namespace sbx::cli {
namespace {

std::optional<std::string> g_host_option;

Error bad_url(std::string_view text, const std::string& why) {
  return make_error(Errc::usage, "bad host '" + std::string(text) + "': " + why +
                                     " (use ssh://[USER@]HOST[:PORT][/REMOTE_HOME])");
}

bool valid_port(std::string_view s, int& port) {
  if (s.empty() || s.size() > 5) return false;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 65535) return false;
  port = n;
  return true;
}

}  // namespace

std::string HostUrl::name() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (user.empty() ? "" : user + "@") + h + (port ? ":" + std::to_string(port) : "");
}

std::string HostUrl::url() const {
  if (!remote) return "unix://" + socket;
  return "ssh://" + name() + home;
}

std::string tunnel_command(const HostUrl& host, int port) {
  std::string p = std::to_string(port);
  return "ssh -N -L " + p + ":127.0.0.1:" + p +
         (host.port ? " -p " + std::to_string(host.port) : "") + " " +
         (host.user.empty() ? "" : host.user + "@") + host.host;
}

Result<HostUrl> parse_host_url(std::string_view text) {
  HostUrl u;
  if (text.empty()) return u;
  if (text.starts_with("unix://")) {
    u.socket = std::string(text.substr(7));
    if (u.socket.empty() || u.socket[0] != '/')
      return bad_url(text, "unix:// takes an absolute socket path, unix:///path/to/sbxd.sock");
    return u;
  }
  if (!text.starts_with("ssh://")) return bad_url(text, "only ssh:// and unix:// are known");
  u.remote = true;
  std::string_view rest = text.substr(6);
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.home = std::string(rest.substr(slash));
    while (u.home.size() > 1 && u.home.back() == '/') u.home.pop_back();
    if (u.home == "/") u.home.clear();
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    u.user = std::string(rest.substr(0, at));
    if (u.user.empty()) return bad_url(text, "the user before '@' is empty");
    rest = rest.substr(at + 1);
  }
  std::string_view port;
  if (rest.starts_with("[")) {  // [::1]:2222
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad_url(text, "a '[' without its ']'");
    u.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(":")) return bad_url(text, "junk after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    u.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    u.host = std::string(rest);
  }
  if (u.host.empty()) return bad_url(text, "no host");
  if (u.host.starts_with("-")) return bad_url(text, "a host cannot start with '-'");
  if (u.user.starts_with("-")) return bad_url(text, "a user cannot start with '-'");
  if (!port.empty() || rest.ends_with(":")) {
    if (!valid_port(port, u.port)) return bad_url(text, "the port is a number, 1-65535");
  }
  return u;
}

void set_host_option(std::string url) { g_host_option = std::move(url); }

const Result<HostUrl>& target_host() {
  static const Result<HostUrl> host = [] {
    const char* env = std::getenv("SBX_HOST");
    auto parsed = parse_host_url(g_host_option ? *g_host_option : env ? env : "");
    if (parsed && !parsed->remote && parsed->socket.empty()) {
      if (auto p = resolve_paths()) parsed->socket = p->socket;
    }
    return parsed;
  }();
  return host;
}

bool talking_to_remote() {
  const auto& h = target_host();
  return h && h->remote;
}

}  // namespace sbx::cli
