#include "daemon/run/run_as.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "shim/protocol.hpp"

namespace sbx::daemon {
namespace {

std::optional<unsigned> number(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == static_cast<unsigned>(-1))
    return std::nullopt;
  return v;
}

struct User {
  uid_t uid = 0;
  std::optional<gid_t> gid;  ///< its own group, when it has an entry
  std::string name, home;
};

/// The passwd entry of a name, else of a number; a number without one is still a uid.
Result<User> find_user(std::string_view spec) {
  std::string name(spec);
  std::vector<char> buf(16384);
  passwd pw{}, *found = nullptr;
  int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  auto uid = number(spec);
  if (!found && uid) rc = ::getpwuid_r(*uid, &pw, buf.data(), buf.size(), &found);
  if (found) return User{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir ? pw.pw_dir : ""};
  if (uid) return User{*uid, std::nullopt, "", ""};
  if (rc != 0 && rc != ENOENT && rc != ESRCH)
    return make_error(Errc::failed, "cannot look up user '" + name + "': " + std::strerror(rc));
  return make_error(Errc::failed, "no user '" + name + "' on this system: see 'getent passwd'");
}

Result<gid_t> find_group(std::string_view spec) {
  std::string name(spec);
  std::vector<char> buf(16384);
  group gr{}, *found = nullptr;
  int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (found) return gr.gr_gid;
  if (auto gid = number(spec)) return static_cast<gid_t>(*gid);
  if (rc != 0 && rc != ENOENT && rc != ESRCH)
    return make_error(Errc::failed, "cannot look up group '" + name + "': " + std::strerror(rc));
  return make_error(Errc::failed, "no group '" + name + "' on this system: see 'getent group'");
}

std::string self_name(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{}, *found = nullptr;
  ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  return found ? std::string(pw.pw_name) + " (uid " + std::to_string(uid) + ")"
               : "uid " + std::to_string(uid);
}

}  // namespace

Result<std::optional<RunAs>> resolve_run_as(std::string_view spec, uid_t self_uid, gid_t self_gid) {
  if (spec.empty()) return std::optional<RunAs>();
  auto colon = spec.find(':');
  auto user = find_user(spec.substr(0, colon));
  if (!user) return user.error();
  RunAs as;
  as.uid = user->uid;
  as.name = user->name;
  as.home = user->home;
  if (colon != std::string_view::npos) {
    auto gid = find_group(spec.substr(colon + 1));
    if (!gid) return gid.error();
    as.gid = *gid;
  } else if (user->gid) {
    as.gid = *user->gid;
  } else {
    return make_error(Errc::failed, "user " + std::string(spec) +
                                        " has no entry in the user database, so no group: "
                                        "give one, --user " +
                                        std::string(spec) + ":GROUP");
  }
  if (as.uid == self_uid && as.gid == self_gid && self_uid != 0) return std::optional<RunAs>();
  if (self_uid != 0) {
    return make_error(Errc::failed, "sbxd runs as " + self_name(self_uid) +
                                        ", not as root: it starts processes only as itself, "
                                        "not as '" +
                                        std::string(spec) + "' (run sbxd as root for --user)");
  }
  // The user's groups (initgroups(3)), its group among them; only the group for a uid
  // without an entry.
  as.groups = {as.gid};
  if (!as.name.empty()) {
    int n = 64;
    for (;;) {
      std::vector<gid_t> groups(static_cast<std::size_t>(n));
      int got = n;
      if (::getgrouplist(as.name.c_str(), as.gid, groups.data(), &got) >= 0) {
        groups.resize(static_cast<std::size_t>(got));
        as.groups = std::move(groups);
        break;
      }
      if (got <= n) break;  // no larger list will do: keep the group alone
      n = got;
    }
  }
  return std::optional<RunAs>(std::move(as));
}

std::string waiter_user_arg(const std::optional<RunAs>& as) {
  if (!as) return waiter::kSameUser;
  std::string out = std::to_string(as->uid) + ":" + std::to_string(as->gid) + ":";
  for (std::size_t i = 0; i < as->groups.size(); ++i)
    out += (i ? "," : "") + std::to_string(as->groups[i]);
  return out;
}

std::vector<std::string> env_for(const std::vector<std::string>& envp, const RunAs& as,
                                 const std::vector<std::string>& overrides) {
  std::vector<std::pair<std::string, std::string>> set;
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty() && std::find(overrides.begin(), overrides.end(), name) == overrides.end())
      set.emplace_back(name, value);
  };
  add("HOME", as.home);
  add("USER", as.name);
  add("LOGNAME", as.name);
  std::vector<std::string> out;
  out.reserve(envp.size() + set.size());
  for (const auto& kv : envp) {
    std::string name = kv.substr(0, kv.find('='));
    if (std::none_of(set.begin(), set.end(), [&](const auto& s) { return s.first == name; }))
      out.push_back(kv);
  }
  for (const auto& [k, v] : set) out.push_back(k + "=" + v);
  return out;
}

}  // namespace sbx::daemon
