#include "common/command_line.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace sbx {
namespace {

bool plain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_./:@%+,-=").find(c) != std::string_view::npos;
}

bool is_name(std::string_view k) {
  if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0]))) return false;
  for (char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_env_name(std::string_view name) { return is_name(name); }

bool is_shell_builtin(std::string_view word) {
  static constexpr std::string_view kWords[] = {
      // POSIX special builtins and reserved words
      ".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
      "shift", "times", "trap", "unset", "case", "do", "done", "elif", "else", "esac", "fi", "for",
      "if", "in", "then", "until", "while",
      // regular builtins of dash and bash
      "alias", "bg", "cd", "command", "echo", "false", "fc", "fg", "getopts", "hash", "jobs",
      "kill", "local", "printf", "pwd", "read", "test", "true", "type", "ulimit", "umask",
      "unalias", "wait",
      // bash only
      "builtin", "caller", "compgen", "complete", "compopt", "coproc", "declare", "dirs", "disown",
      "enable", "function", "help", "history", "let", "logout", "mapfile", "popd", "pushd",
      "readarray", "select", "shopt", "source", "suspend", "time", "typeset"};
  for (auto w : kWords) {
    if (w == word) return true;
  }
  return false;
}

std::optional<std::vector<std::string>> split_plain_command(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else if (plain_char(c)) {
      cur += c;
    } else {
      return std::nullopt;
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  if (words.empty() || words[0].find('=') != std::string::npos) return std::nullopt;
  return words;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty();
    for (char c : a) plain = plain && plain_char(c);
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\"'\"'";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

std::optional<std::string> find_program(const std::string& program, const std::string& path_var,
                                        const std::string& cwd, int& err) {
  auto usable = [&](const std::string& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return (err = errno, false);
    if (S_ISDIR(st.st_mode)) return (err = EACCES, false);
    if (::access(p.c_str(), X_OK) != 0) return (err = errno, false);
    return true;
  };
  err = ENOENT;
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    std::string p = program[0] == '/' ? program : cwd + "/" + program;
    if (usable(p)) return p;
    return std::nullopt;
  }
  int best = ENOENT;
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (dir[0] != '/') dir = cwd + "/" + dir;
    std::string p = dir + "/" + program;
    if (usable(p)) return p;
    if (err == EACCES) best = EACCES;
    start = end + 1;
  }
  err = best;
  return std::nullopt;
}

std::optional<EnvFileError> parse_env_file(std::string_view text,
                                           std::map<std::string, std::string>& out) {
  int lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return EnvFileError{lineno, "expected KEY=VALUE"};
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (!is_name(key))
      return EnvFileError{lineno, "'" + std::string(key) + "' is not a variable name"};
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(key)] = std::string(value);
  }
  return std::nullopt;
}

bool parse_env_assignment(std::string_view kv, std::string& key, std::string& value) {
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  key = std::string(kv.substr(0, eq));
  value = std::string(kv.substr(eq + 1));
  return is_name(key);
}

}  // namespace sbx
