#pragma once
// The user and group databases as the system's NSS has them, asked through getent(1)
// rather than getpwnam(3) and friends: sbxd is linked statically, and a static glibc that
// loads an NSS module of the installed one (Debian's libnss_systemd.so) crashes. getent
// is glibc's own (Debian's libc-bin, which every system has), so the answer is the one
// `id` and login(1) give, from every source nsswitch.conf lists. Only `start --user` asks.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/result.hpp"

namespace sbx::daemon {

/// How long a lookup may take (a directory server that does not answer) before it fails.
inline constexpr Millis kUserLookupLimit{10'000};

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  gid_t gid = 0;
};

/// The entry of `key`: a name, or a number (then a uid or gid). nullopt if there is none;
/// an error if getent could not be asked or gave no answer.
Result<std::optional<PasswdEntry>> lookup_user(std::string_view key);
Result<std::optional<GroupEntry>> lookup_group(std::string_view key);
/// The groups `name` is a member of (initgroups(3)), not counting its own.
Result<std::vector<gid_t>> lookup_member_groups(std::string_view name);

/// One line of `getent passwd`, `getent group` and `getent initgroups`; nullopt if it is
/// not one.
std::optional<PasswdEntry> parse_passwd_line(std::string_view line);
std::optional<GroupEntry> parse_group_line(std::string_view line);
std::optional<std::vector<gid_t>> parse_initgroups_line(std::string_view line);

}  // namespace sbx::daemon
