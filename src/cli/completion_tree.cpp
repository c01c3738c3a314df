// The helpers the completion scripts share: what a value completes to, quoting.

#include "cli/completion_tree.hpp"
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>
#include "cli/command.hpp"
#include "cli/completion.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/defaults.hpp"
#include "common/record.hpp"
#include "common/signal_names.hpp"

namespace sbx::cli::completion {

std::vector<std::string> words_for(const std::string& kind) {
  std::vector<std::string> w;
  if (kind == "SIGNAL") {
    // The usual ones first, then every other name parse_signal() knows.
    for (const char* s : {"TERM", "HUP", "INT", "KILL", "USR1", "USR2", "QUIT", "STOP", "CONT"})
      w.emplace_back(s);
    for (int i = 1; i < 32; ++i) {
      std::string name = signal_name(i).substr(3);
      if (!parse_signal(name) || std::find(w.begin(), w.end(), name) != w.end()) continue;
      w.push_back(name);
    }
  } else if (kind == "POLICY") {
    w.assign(std::begin(kRestartPolicies), std::end(kRestartPolicies));
  } else if (kind == "STREAM") {
    w = {"stdout", "stderr"};
  } else if (kind == "STATUS") {
    for (auto s : {ProcStatus::starting, ProcStatus::running, ProcStatus::completed,
                   ProcStatus::failed, ProcStatus::killed, ProcStatus::error}) {
      w.emplace_back(status_name(s));
    }
    w.emplace_back("live");
    w.emplace_back("ended");
  } else if (kind == "COMMAND") {
    for (const auto& c : command_table()) w.emplace_back(c.name);
  } else if (kind == "SHELL") {
    for (const char* s : kShells) w.emplace_back(s);
  }
  return w;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Single-quoted for sh, bash, zsh and fish: 'it'\''s' (fish: 'it\'s').
std::string sq(std::string_view s, bool fish) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += fish ? "\\'" : "'\\''";
    else if (fish && c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  return out + "'";
}

/// `"case" patterns` of a node's value-taking options: "sbx kill:-s"|"sbx kill:--signal".
std::vector<std::string> value_option_keys(const Node& n) {
  std::vector<std::string> keys;
  for (const auto& o : n.opts) {
    if (!o.value) continue;
    for (const auto& name : o.names) keys.push_back(n.path + ":" + name);
  }
  return keys;
}

std::string dq(const std::string& s) { return "\"" + s + "\""; }

// ------------------------------------------------------------------------------ bash

}  // namespace sbx::cli::completion
