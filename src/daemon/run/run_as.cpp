#include "daemon/run/run_as.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "daemon/run/user_db.hpp"
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

/// The passwd entry of a name, or of a uid; a number without one is still a uid.
Result<User> find_user(std::string_view spec) {
  std::string name(spec);
  auto found = lookup_user(spec);
  if (!found)
    return make_error(Errc::failed, "cannot look up user '" + name + "': " + found.error().message);
  if (*found) return User{(*found)->uid, (*found)->gid, (*found)->name, (*found)->home};
  if (auto uid = number(spec)) return User{*uid, std::nullopt, "", ""};
  return make_error(Errc::failed, "no user '" + name + "' on this system: see 'getent passwd'");
}

Result<gid_t> find_group(std::string_view spec) {
  std::string name(spec);
  auto found = lookup_group(spec);
  if (!found)
    return make_error(Errc::failed,
                      "cannot look up group '" + name + "': " + found.error().message);
  if (*found) return (*found)->gid;
  if (auto gid = number(spec)) return static_cast<gid_t>(*gid);
  return make_error(Errc::failed, "no group '" + name + "' on this system: see 'getent group'");
}

std::string self_name(uid_t uid) {
  auto found = lookup_user(std::to_string(uid));
  return found && *found ? (*found)->name + " (uid " + std::to_string(uid) + ")"
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
    auto member_of = lookup_member_groups(as.name);
    if (!member_of)
      return make_error(Errc::failed, "cannot look up the groups of '" + as.name +
                                          "': " + member_of.error().message);
    for (gid_t g : *member_of)
      if (std::find(as.groups.begin(), as.groups.end(), g) == as.groups.end())
        as.groups.push_back(g);
  }
  return std::optional<RunAs>(std::move(as));
}

std::string waiter_user_arg(const std::optional<RunAs>& as) {
  if (!as) return waiter::kSameUser;
  std::string out = std::to_string(as->uid) + ":" + std::to_string(as->gid) + ":";
  for (std::size_t i = 0; i < as->groups.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(as->groups[i]);
  }
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
