// The root of the command line, parsing, and the error edge.

#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "cli/exit_codes.hpp"
#include "cli/host.hpp"
#include "cli/output.hpp"
#include "sbx_config.h"

namespace sbx::cli {
namespace {

/// The usage line of a command's help: its whole form, not CLI11's "[OPTIONS]" alone.
class UsageFormatter : public CLI::Formatter {
 public:
  explicit UsageFormatter(std::string usage) : usage_(std::move(usage)) {}
  std::string make_usage(const CLI::App*, std::string) const override {
    return "Usage: " + usage_ + "\n";
  }

 private:
  std::string usage_;
};

/// Edit distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> names_of(const CLI::App& app) {
  std::vector<std::string> out;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    out.push_back(sub->get_name());
  return out;
}

/// The command whose help an error points to: "start", "daemon status"; empty for sbx itself.
std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = &app;;) {
    auto subs = at->get_subcommands();
    if (subs.empty()) return path;
    at = subs.front();
    path += (path.empty() ? "" : " ") + at->get_name();
  }
}

/// A CLI11 parse error as one line that names the command's help.
Error usage_error(const CLI::App& app, const std::vector<std::string>& words,
                  const CLI::ParseError& e) {
  std::string path = command_path(app);
  // A group (daemon) given no command of its own, or one it does not know.
  if (auto* group = path.empty() ? nullptr : app.get_subcommand(path.substr(0, path.find(' ')));
      group && path.find(' ') == std::string::npos && !group->get_subcommands({}).empty()) {
    if (words.size() > 1 && !words[1].starts_with("-"))
      return unknown_command("sbx " + path, words[1], names_of(*group));
    return make_error(
        Errc::usage, "give a command: sbx " + path + " " +
                         [&] {
                           std::string list;
                           for (const auto& n : names_of(*group))
                             list += (list.empty() ? "" : "|") + n;
                           return list;
                         }() +
                         " (see 'sbx " + path + " --help')");
  }
  std::string help = path.empty() ? "sbx --help" : "sbx " + path + " --help";
  if (path.empty() && words[0].starts_with("-"))
    return make_error(Errc::usage, "unknown option '" + words[0] + "' (see 'sbx --help')");
  std::string msg = e.what();
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    // "The following argument(s) was/were not expected: --bogus x"
    std::string first = msg.substr(msg.find(": ") + 2);
    first = first.substr(0, first.find(' '));
    msg = (first.starts_with("-") ? "unknown option '" : "unexpected argument '") + first + "'";
    if (first == words[0])
      help = "sbx --help";  // before the command: an option of sbx itself
    else if (!path.empty())
      msg = path + ": " + msg;
  }
  return make_error(Errc::usage, msg + " (see '" + help + "')");
}

/// An option given with an empty value ("--timeout ''") is a mistake, not "not given".
Status check_empty_values(const CLI::App& app) {
  for (const auto* opt : app.get_options()) {
    if (opt->get_expected_min() == 0 || opt->count() == 0) continue;
    for (const auto& r : opt->results()) {
      if (r.empty())
        return make_error(Errc::usage,
                          "option " + opt->get_name() + " needs a value, not an empty string");
    }
  }
  for (const auto* sub : app.get_subcommands()) {
    if (auto st = check_empty_values(*sub); !st) return st;
  }
  return ok_status();
}

Result<int> parse_and_run(std::vector<std::string> words) {
  if (words.empty()) return make_error(Errc::usage, "give a command (see 'sbx help')");
  if (words.size() == 1 && (words[0] == "-V" || words[0] == "--version")) return print_version();
  // The options of sbx itself come before the command: `sbx --host URL start ...`.
  std::size_t at = 0;
  while (at < words.size() && (words[at] == "--host" || words[at].starts_with("--host="))) {
    if (words[at] == "--host") {
      if (at + 1 < words.size()) set_host_option(words[at + 1]);
      at += 2;
    } else {
      set_host_option(words[at].substr(7));
      at += 1;
    }
  }
  if (at > 0 && at >= words.size())
    return make_error(Errc::usage, "give a command (see 'sbx help')");
  const CommandEntry* entry = nullptr;
  if (!words[at].starts_with("-")) {
    entry = find_command(words[at]);
    if (!entry) {
      std::vector<std::string> known;
      for (const auto& c : command_table()) known.emplace_back(c.name);
      return unknown_command("sbx", words[at], known);
    }
  }
  Invocation inv;
  // `start ... -- CMD ARG...`: everything after the first `--` is the argv, verbatim.
  if (entry && entry->takes_argv) {
    if (auto dd = std::find(words.begin() + at + 1, words.end(), "--"); dd != words.end()) {
      inv.argv.emplace(dd + 1, words.end());
      words.erase(dd, words.end());
    }
  }
  // Never freed: sbx exits without tearing the tree down.
  auto* app = new CLI::App;
  build_app(*app, inv, entry ? entry->name : std::string_view{});
  std::vector<std::string> reversed(words.rbegin(), words.rend());  // CLI11 takes a reversed vector
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(*app, std::vector<std::string>(words.begin() + at, words.end()), e);
  }
  if (auto st = check_empty_values(*app); !st) return st.error();
  if (!inv.run) return make_error(Errc::usage, "give a command (see 'sbx help')");
  return inv.run();
}

}  // namespace

Error unknown_command(std::string_view parent, std::string_view name,
                      const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 3;  // suggest only a near miss
  for (const auto& k : known) {
    std::size_t d = distance(name, k);
    if (d < best_d || (k.starts_with(name) && name.size() >= 2 && best.empty()))
      best = k, best_d = std::min(d, best_d);
  }
  std::string msg = "unknown command '" + std::string(name) + "'";
  std::string help = std::string(parent) == "sbx" ? "sbx help" : std::string(parent) + " --help";
  msg += best.empty() ? " (see '" + help + "')" : " (did you mean '" + best + "'?)";
  if (parent != "sbx") msg = std::string(parent.substr(4)) + ": " + msg;
  return make_error(Errc::usage, msg);
}

int print_version() {
  write_out(1, "sbx " SBX_VERSION "\n");
  return kExitOk;
}

OptionDef& OptionDef::required() { return o_->required(), *this; }
OptionDef& OptionDef::type_name(const char* name) { return o_->type_name(name), *this; }
OptionDef& OptionDef::one_value_each() { return o_->allow_extra_args(false), *this; }
OptionDef& OptionDef::split_on(char delimiter) {
  return o_->delimiter(delimiter)->allow_extra_args(false), *this;
}
OptionDef& OptionDef::hidden() { return o_->group(""), *this; }

CommandDef CommandDef::add(const char* name, const char* help, const char* usage,
                           const char* example) {
  auto* sub = app_->add_subcommand(name, help);
  sub->formatter(std::make_shared<UsageFormatter>(usage));
  sub->footer(std::string("Example:\n  ") + example);
  return CommandDef(*sub, *inv_);
}

void CommandDef::runs(RunFn run) {
  app_->callback([inv = inv_, run = std::move(run)] { inv->run = run; });
}

void CommandDef::require_subcommand() { app_->require_subcommand(1); }
void CommandDef::takes_command_line() { app_->prefix_command(); }
std::vector<std::string> CommandDef::remaining() const { return app_->remaining(); }

OptionDef CommandDef::option(const char* names, std::string& into, const char* help) {
  return OptionDef(app_->add_option(names, into, help));
}
OptionDef CommandDef::option(const char* names, std::vector<std::string>& into, const char* help) {
  return OptionDef(app_->add_option(names, into, help));
}
OptionDef CommandDef::option(const char* names, int& into, const char* help) {
  return OptionDef(app_->add_option(names, into, help));
}
OptionDef CommandDef::option(const char* names, std::optional<int>& into, const char* help) {
  return OptionDef(app_->add_option(names, into, help));
}
OptionDef CommandDef::option(const char* names, std::optional<std::int64_t>& into,
                             const char* help) {
  return OptionDef(app_->add_option(names, into, help));
}
OptionDef CommandDef::flag(const char* names, bool& into, const char* help) {
  return OptionDef(app_->add_flag(names, into, help));
}

Result<std::string> help_text(const std::vector<std::string>& words) {
  std::vector<std::string> known;
  for (const auto& c : command_table()) known.emplace_back(c.name);
  if (!words.empty() && !find_command(words[0])) return unknown_command("sbx", words[0], known);
  Invocation unused;
  auto* app = new CLI::App;  // never freed: sbx exits without tearing the tree down
  build_app(*app, unused, words.empty() ? std::string_view{} : std::string_view(words[0]));
  const CLI::App* at = app;
  std::string path = "sbx";
  for (const auto& w : words) {
    const CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (const auto* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
      if (sub->get_name() == w) next = sub;
    }
    if (!next) return unknown_command(path, w, names);
    at = next;
    path += " " + w;
  }
  std::string text = at->help();
  if (!text.ends_with("\n")) text += "\n";
  return text;
}

void build_app(CLI::App& app, Invocation& inv, std::string_view only) {
  app.name("sbx");
  app.description("sbx: run commands in the background, watch them, wait on them, stop them");
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "sbx " SBX_VERSION);
  // Read by parse_and_run before CLI11 parses (host.hpp); declared for the help.
  static std::string host_option;
  app.add_option("--host", host_option,
                 "talk to the sbxd of another host: ssh://[USER@]HOST[:PORT][/REMOTE_HOME] "
                 "(default: $SBX_HOST, else this machine)")
      ->type_name("URL");
  app.footer(
      "Example:\n"
      "  sbx start --id web -- python3 -m http.server 8000\n"
      "  sbx wait-port web 8000 --timeout 30s && sbx logs web\n"
      "  sbx kill web\n\n"
      "Exit codes: 0 done, 1 failed, 2 usage, 3 no such process, 124 a wait timed out,\n"
      "125 a wait lost the daemon and no daemon answered again within 10s (waits ride\n"
      "through a daemon restart or crash); `sbx wait` exits with the process's own code\n"
      "(128+N for signal N).\n"
      "Run 'sbx help COMMAND' (or 'sbx COMMAND --help') for a command's options; man sbx for the "
      "whole story.");
  CommandDef root(app, inv);
  for (const auto& c : command_table()) {
    if (only.empty() || only == c.name) c.define(root);
  }
}

int run_command_line(int argc, char** argv) {
  auto r = parse_and_run(std::vector<std::string>(argv + 1, argv + argc));
  if (!r) return report(r.error());
  return *r;
}

}  // namespace sbx::cli
