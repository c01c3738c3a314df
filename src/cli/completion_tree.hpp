#pragma once
// Private to completion*.cpp: the command tree as the completion scripts see it, and the
// helpers the three shells share.

#include <string>
#include <string_view>
#include <vector>

namespace sbx::cli::completion {

inline constexpr const char* kShells[] = {"bash", "zsh", "fish"};

struct Opt {
  std::vector<std::string> names;  ///< "-s", "--signal"
  std::string desc;
  std::string kind;  ///< type name; empty for a flag
  bool value = false;
  bool repeat = false;
};

struct Pos {
  std::string desc;
  std::string kind;
  bool many = false;
};

struct Node {
  std::string name;
  std::string path;  ///< "sbx", "sbx logs", "sbx daemon status"
  std::string desc;
  std::vector<Opt> opts;
  std::vector<Pos> pos;
  std::vector<Node> subs;
  bool command_line = false;  ///< takes a command line after its options (start)
};

std::vector<std::string> words_for(const std::string& kind);
std::string join(const std::vector<std::string>& v, std::string_view sep = " ");
std::string lower(std::string s);
std::string sq(std::string_view s, bool fish = false);
std::vector<std::string> value_option_keys(const Node& n);
std::string dq(const std::string& s);

template <class F>
void each_node(const Node& n, F&& f) {
  f(n);
  for (const auto& s : n.subs) each_node(s, f);
}

/// The fixed words a value of this kind completes to (empty: none, or not fixed).
std::string fish_script(const Node& root);

}  // namespace sbx::cli::completion
