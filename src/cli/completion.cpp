// `sbx completion bash|zsh|fish`: completion scripts generated from the CLI11 tree that
// app.cpp builds, so they list exactly the commands and options that sbx accepts.
//
// What a value completes to comes from the option's type name in app.cpp: ID (the ids of
// `sbx ps -q --no-start`), SIGNAL, POLICY, STREAM, STATUS, SHELL (fixed words), DIR, FILE;
// any other value is free text. A command with prefix_command() (start) takes a command
// line after its options: a program name, then files.

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/completion.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "common/defaults.hpp"
#include "common/record.hpp"
#include "common/signal_names.hpp"

namespace sbx::cli {
namespace {

constexpr const char* kShells[] = {"bash", "zsh", "fish"};

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

Node walk(const CLI::App& app, const std::string& path) {
  Node n;
  n.name = app.get_name();
  n.path = path;
  n.desc = app.get_description();
  n.command_line = app.get_prefix_command();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (o->get_positional()) {
      n.pos.push_back({o->get_description(), o->get_type_name(), o->get_items_expected_max() > 1});
      continue;
    }
    Opt opt;
    for (const auto& s : o->get_snames()) opt.names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) opt.names.push_back("--" + l);
    opt.desc = o->get_description();
    opt.value = o->get_expected_max() > 0;  // flags expect 0 values
    if (opt.value) opt.kind = o->get_type_name();
    opt.repeat = opt.value && o->get_items_expected_max() > 1;
    n.opts.push_back(std::move(opt));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    n.subs.push_back(walk(*sub, path + " " + sub->get_name()));
  }
  return n;
}

template <class F>
void each_node(const Node& n, F&& f) {
  f(n);
  for (const auto& s : n.subs) each_node(s, f);
}

/// The fixed words a value of this kind completes to (empty: none, or not fixed).
std::vector<std::string> words_for(const std::string& kind) {
  std::vector<std::string> w;
  if (kind == "SIGNAL") {
    // The usual ones first, then every other name parse_signal() knows.
    for (const char* s : {"TERM", "HUP", "INT", "KILL", "USR1", "USR2", "QUIT", "STOP", "CONT"}) w.emplace_back(s);
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
    for (auto s : {ProcStatus::starting, ProcStatus::running, ProcStatus::completed, ProcStatus::failed,
                   ProcStatus::killed, ProcStatus::error}) {
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

std::string join(const std::vector<std::string>& v, std::string_view sep = " ") {
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
std::string sq(std::string_view s, bool fish = false) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += fish ? "\\'" : "'\\''";
    else if (fish && c == '\\') out += "\\\\";
    else out += c;
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

std::string bash_value(const std::string& kind, const std::string& indent) {
  if (kind == "ID") return indent + "COMPREPLY=($(compgen -W \"$(_sbx_ids)\" -- \"$cur\"))\n";
  if (kind == "DIR") return indent + "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\"))\n";
  if (kind == "FILE") return indent + "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))\n";
  auto w = words_for(kind);
  if (!w.empty()) return indent + "COMPREPLY=($(compgen -W \"" + join(w) + "\" -- \"$cur\"))\n";
  return indent + "COMPREPLY=()  # free text\n";
}

std::string bash_script(const Node& root) {
  std::string s;
  s += "# bash completion for sbx                                  -*- shell-script -*-\n"
       "# Generated by `sbx completion bash` from sbx's command-line definition; do not edit.\n"
       "# Load it with: source <(sbx completion bash)\n\n"
       "# The ids of the daemon's processes; nothing (and no daemon started) when none runs.\n"
       "_sbx_ids() {\n"
       "    command sbx ps -q --no-start 2>/dev/null\n"
       "}\n\n"
       "_sbx() {\n"
       "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\n"
       "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
       "    # Walk the words before the cursor: the command path, the number of positional\n"
       "    # words, and (rest > 0) how far into a command line after `start` we are.\n"
       "    local path=sbx npos=0 rest=0 i w\n"
       "    for (( i = 1; i < COMP_CWORD; i++ )); do\n"
       "        w=${COMP_WORDS[i]}\n"
       "        if (( rest )); then (( rest++ )); continue; fi\n"
       "        case \"$path:$w\" in\n";
  std::vector<std::string> keys;
  each_node(root, [&](const Node& n) {
    for (auto& k : value_option_keys(n)) keys.push_back(dq(k));
  });
  // one pattern per line keeps the file readable
  s += "            " + join(keys, "|\\\n            ") + ")\n";
  s += "                (( i++ ))\n"
       "                [[ ${COMP_WORDS[i]} == = && i+1 -lt COMP_CWORD ]] && (( i++ ))\n"
       "                continue ;;\n"
       "        esac\n"
       "        case $w in\n";
  std::vector<std::string> cl;
  each_node(root, [&](const Node& n) {
    if (n.command_line) cl.push_back(dq(n.path));
  });
  s += "            --) case $path in " + (cl.empty() ? std::string("\"\"") : join(cl, "|")) +
       ") rest=1 ;; esac; continue ;;\n"
       "            -*) continue ;;\n"
       "        esac\n"
       "        case \"$path:$w\" in\n";
  std::vector<std::string> subs;
  each_node(root, [&](const Node& n) {
    for (const auto& c : n.subs) subs.push_back(dq(n.path + ":" + c.name));
  });
  s += "            " + join(subs, "|\\\n            ") + ")\n";
  s += "                path+=\" $w\"; npos=0; continue ;;\n";
  if (!cl.empty()) s += "            " + join(cl, "|") + ":*) rest=2; continue ;;\n";
  s += "        esac\n"
       "        (( npos++ ))\n"
       "    done\n\n"
       "    if (( rest == 1 )); then COMPREPLY=($(compgen -c -- \"$cur\")); return 0; fi\n"
       "    if (( rest > 1 )); then\n"
       "        compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0\n"
       "    fi\n\n"
       "    # the value of an option\n"
       "    case \"$path:$prev\" in\n";
  // one arm per distinct action, in order of first use
  std::vector<std::pair<std::string, std::vector<std::string>>> arms;
  each_node(root, [&](const Node& n) {
    for (const auto& o : n.opts) {
      if (!o.value) continue;
      std::string action = bash_value(o.kind, "            ");
      auto it = std::find_if(arms.begin(), arms.end(), [&](const auto& a) { return a.first == action; });
      if (it == arms.end()) it = arms.insert(arms.end(), {action, {}});
      for (const auto& name : o.names) it->second.push_back(dq(n.path + ":" + name));
    }
  });
  for (const auto& [action, pats] : arms) {
    s += "        " + join(pats, "|\\\n        ") + ")\n" + action + "            return 0 ;;\n";
  }
  s += "    esac\n\n"
       "    if [[ $cur == -* ]]; then\n"
       "        case $path in\n";
  each_node(root, [&](const Node& n) {
    std::vector<std::string> names;
    for (const auto& o : n.opts) names.insert(names.end(), o.names.begin(), o.names.end());
    s += "            " + dq(n.path) + ") COMPREPLY=($(compgen -W \"" + join(names) + "\" -- \"$cur\")) ;;\n";
  });
  s += "        esac\n"
       "        return 0\n"
       "    fi\n\n"
       "    case $path in\n";
  each_node(root, [&](const Node& n) {
    if (!n.subs.empty()) {
      std::vector<std::string> names;
      for (const auto& c : n.subs) names.push_back(c.name);
      s += "        " + dq(n.path) + ") COMPREPLY=($(compgen -W \"" + join(names) + "\" -- \"$cur\")) ;;\n";
      return;
    }
    if (n.command_line) {
      s += "        " + dq(n.path) + ") COMPREPLY=($(compgen -c -- \"$cur\")) ;;\n";
      return;
    }
    if (n.pos.empty()) return;
    s += "        " + dq(n.path) + ")\n            case $npos in\n";
    for (std::size_t i = 0; i < n.pos.size(); ++i) {
      const auto& p = n.pos[i];
      std::string pat = p.many ? "*" : std::to_string(i);  // many: this one and every later one
      s += "                " + pat + ")\n" + bash_value(p.kind, "                    ") + "                    ;;\n";
    }
    s += "            esac ;;\n";
  });
  s += "    esac\n"
       "    return 0\n"
       "}\n\n"
       "complete -F _sbx sbx\n";
  return s;
}

// ------------------------------------------------------------------------------- zsh

/// Text inside an _arguments [description] or a message: brackets and colons escaped.
std::string zdesc(std::string_view d) {
  std::string out;
  for (char c : d) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_action(const std::string& kind) {
  if (kind == "ID") return "_sbx_ids";
  if (kind == "DIR") return "_files -/";
  if (kind == "FILE") return "_files";
  auto w = words_for(kind);
  if (!w.empty()) return "(" + join(w) + ")";
  return " ";
}

std::string zsh_fn(const std::string& path) {
  std::string f = "_sbx";  // "sbx daemon status" -> _sbx_daemon_status, "sbx wait-log" -> _sbx_wait_log
  for (std::size_t i = 3; i < path.size(); ++i) f += path[i] == ' ' || path[i] == '-' ? '_' : path[i];
  return f;
}

void zsh_node(const Node& n, std::string& s) {
  s += zsh_fn(n.path) + "() {\n";
  if (!n.subs.empty()) s += "  local curcontext=$curcontext state state_descr line ret=1\n  typeset -A opt_args\n";
  s += "  _arguments -S" + std::string(n.subs.empty() ? "" : " -C") + " \\\n";
  for (const auto& o : n.opts) {
    bool help = o.names.size() && (o.names.back() == "--help" || o.names.back() == "--version");
    std::string prefix;  // what it excludes, or '*' for a repeatable option
    if (help) prefix = "(- : *)";
    else if (o.repeat) prefix = "*";
    else if (o.names.size() > 1) prefix = "(" + join(o.names) + ")";
    std::string tail = "[" + zdesc(o.desc) + "]";
    if (o.value) tail += ":" + zdesc(lower(o.kind)) + ":" + zsh_action(o.kind);
    std::string spec = o.names.size() > 1 ? sq(prefix) + "{" + join(o.names, ",") + "}" + sq(tail)
                                          : sq(prefix + o.names[0] + tail);
    s += "    " + spec + " \\\n";
  }
  if (!n.subs.empty()) {
    s += "    ': :->command' \\\n    '*:: :->arg' && ret=0\n"
         "  case $state in\n"
         "    command)\n"
         "      local -a commands\n"
         "      commands=(\n";
    for (const auto& c : n.subs) s += "        " + sq(c.name + ":" + c.desc) + "\n";
    s += "      )\n"
         "      _describe -t commands " + sq(n.path + " command") + " commands && ret=0 ;;\n"
         "    arg)\n"
         "      curcontext=${curcontext%:*:*}:" + zsh_fn(n.path).substr(1) + "-$words[1]:\n"
         "      case $words[1] in\n";
    for (const auto& c : n.subs) s += "        " + c.name + ") " + zsh_fn(c.path) + " && ret=0 ;;\n";
    s += "      esac ;;\n"
         "  esac\n"
         "  return ret\n"
         "}\n\n";
  } else if (n.command_line) {
    s += "    '(-):command: _command_names -e' \\\n"
         "    '*::arguments: _normal'\n"
         "}\n\n";
  } else {
    for (std::size_t i = 0; i < n.pos.size(); ++i) {
      const auto& p = n.pos[i];
      std::string spec = (p.many ? std::string("*") : std::to_string(i + 1)) + ":" + zdesc(p.desc) + ":" +
                         zsh_action(p.kind);
      s += "    " + sq(spec) + " \\\n";
    }
    s.resize(s.size() - 3);  // the last " \\\n"
    s += "\n}\n\n";
  }
  for (const auto& c : n.subs) zsh_node(c, s);
}

std::string zsh_script(const Node& root) {
  std::string s =
      "#compdef sbx\n"
      "# zsh completion for sbx.\n"
      "# Generated by `sbx completion zsh` from sbx's command-line definition; do not edit.\n"
      "# Install it as _sbx in a folder of $fpath, e.g. sbx completion zsh > \"${fpath[1]}/_sbx\"\n\n"
      "# The ids of the daemon's processes; nothing (and no daemon started) when none runs.\n"
      "(( $+functions[_sbx_ids] )) ||\n"
      "_sbx_ids() {\n"
      "  local -a ids expl\n"
      "  ids=(${(f)\"$(_call_program ids sbx ps -q --no-start 2>/dev/null)\"})\n"
      "  _wanted ids expl 'process id' compadd -a ids\n"
      "}\n\n";
  zsh_node(root, s);
  s += "if [[ $funcstack[1] == _sbx ]]; then\n"
       "  _sbx \"$@\"\n"
       "else\n"
       "  compdef _sbx sbx\n"
       "fi\n";
  return s;
}

// ------------------------------------------------------------------------------ fish

std::string fish_script(const Node& root) {
  std::string s =
      "# fish completion for sbx.\n"
      "# Generated by `sbx completion fish` from sbx's command-line definition; do not edit.\n"
      "# Install it as ~/.config/fish/completions/sbx.fish\n\n"
      "# The ids of the daemon's processes; nothing (and no daemon started) when none runs.\n"
      "function __sbx_ids\n"
      "    command sbx ps -q --no-start 2>/dev/null\n"
      "end\n\n"
      "# Where the cursor is: the command path (\"sbx\", \"sbx logs\", \"sbx daemon status\"), the\n"
      "# number of positional words before it, how far into a command line after `start` it\n"
      "# is, and 1 when the word under it is an option's value.\n"
      "function __sbx_state\n"
      "    set -l path sbx\n"
      "    set -l npos 0\n"
      "    set -l rest 0\n"
      "    set -l value 0\n"
      "    for w in (commandline -opc)[2..-1]\n"
      "        if test $value = 1\n"
      "            set value 0\n"
      "            continue\n"
      "        end\n"
      "        if test $rest -gt 0\n"
      "            set rest (math $rest + 1)\n"
      "            continue\n"
      "        end\n"
      "        switch \"$path:$w\"\n"
      "            case";
  each_node(root, [&](const Node& n) {
    for (auto& k : value_option_keys(n)) s += " " + sq(k, true);
  });
  s += "\n                set value 1\n"
       "                continue\n"
       "        end\n"
       "        switch $w\n"
       "            case --\n";
  std::vector<std::string> cl;
  each_node(root, [&](const Node& n) {
    if (n.command_line) cl.push_back(sq(n.path, true));
  });
  s += "                contains -- $path " + join(cl) + "; and set rest 1\n"
       "                continue\n"
       "            case '-*'\n"
       "                continue\n"
       "        end\n"
       "        switch \"$path:$w\"\n"
       "            case";
  each_node(root, [&](const Node& n) {
    for (const auto& c : n.subs) s += " " + sq(n.path + ":" + c.name, true);
  });
  s += "\n                set path \"$path $w\"\n"
       "                set npos 0\n"
       "                continue\n"
       "        end\n"
       "        if contains -- $path " + join(cl) + "\n"
       "            set rest 2\n"
       "            continue\n"
       "        end\n"
       "        set npos (math $npos + 1)\n"
       "    end\n"
       "    printf '%s\\n' $path $npos $rest $value\n"
       "end\n\n"
       "# __sbx_at PATH: options of PATH; __sbx_at PATH N: its Nth positional word (from 0);\n"
       "# __sbx_at PATH N+: the Nth or any later one; __sbx_at PATH cmd|args: the command line.\n"
       "function __sbx_at\n"
       "    set -l st (__sbx_state)\n"
       "    test \"$st[1]\" = \"$argv[1]\"; or return 1\n"
       "    switch \"$argv[2]\"\n"
       "        case ''\n"
       "            test $st[3] = 0\n"
       "        case cmd\n"
       "            test $st[3] = 1; or test $st[3] = 0 -a $st[2] = 0 -a $st[4] = 0\n"
       "        case args\n"
       "            test $st[3] -gt 1\n"
       "        case '*+'\n"
       "            test $st[3] = 0 -a $st[4] = 0 -a $st[2] -ge (string trim -r -c + -- $argv[2])\n"
       "        case '*'\n"
       "            test $st[3] = 0 -a $st[4] = 0 -a $st[2] = $argv[2]\n"
       "    end\n"
       "end\n\n"
       "complete -c sbx -f\n";
  each_node(root, [&](const Node& n) {
    s += "\n# " + n.path + "\n";
    auto cond = [&](const std::string& where) {
      return "-n \"__sbx_at '" + n.path + "'" + (where.empty() ? "" : " " + where) + "\"";
    };
    std::string at = cond("");
    for (const auto& o : n.opts) {
      s += "complete -c sbx " + at;
      for (const auto& name : o.names) s += name.starts_with("--") ? " -l " + name.substr(2) : " -s " + name.substr(1);
      if (o.value) {
        if (o.kind == "ID") s += " -x -a '(__sbx_ids)'";
        else if (o.kind == "DIR") s += " -x -a '(__fish_complete_directories)'";
        else if (o.kind == "FILE") s += " -r -F";
        else if (auto w = words_for(o.kind); !w.empty()) s += " -x -a " + sq(join(w), true);
        else s += " -x";
      }
      s += " -d " + sq(o.desc, true) + "\n";
    }
    if (!n.subs.empty()) {
      std::string at0 = cond("0");
      for (const auto& c : n.subs) s += "complete -c sbx " + at0 + " -a " + c.name + " -d " + sq(c.desc, true) + "\n";
    }
    if (n.command_line) {
      s += "complete -c sbx " + cond("cmd") + " -a '(__fish_complete_command)'\n";
      s += "complete -c sbx " + cond("args") + " -F\n";
    }
    for (std::size_t i = 0; i < n.pos.size(); ++i) {
      const auto& p = n.pos[i];
      std::string at_pos = cond(std::to_string(i) + (p.many ? "+" : ""));
      if (p.kind == "ID") s += "complete -c sbx " + at_pos + " -a '(__sbx_ids)' -d " + sq(p.desc, true) + "\n";
      else if (p.kind == "DIR") s += "complete -c sbx " + at_pos + " -a '(__fish_complete_directories)'\n";
      else if (p.kind == "FILE") s += "complete -c sbx " + at_pos + " -F\n";
      else if (auto w = words_for(p.kind); !w.empty()) {
        s += "complete -c sbx " + at_pos + " -a " + sq(join(w), true) + " -d " + sq(p.desc, true) + "\n";
      }
    }
  });
  return s;
}

}  // namespace

std::string completion_script(const std::string& shell) {
  Invocation unused;
  CLI::App app;
  build_app(app, unused);
  Node root = walk(app, "sbx");
  if (shell == "bash") return bash_script(root);
  if (shell == "zsh") return zsh_script(root);
  if (shell == "fish") return fish_script(root);
  return "";
}

}  // namespace sbx::cli
