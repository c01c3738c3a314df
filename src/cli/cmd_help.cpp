// help and version.

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"

namespace sbx::cli {
namespace {

/// `sbx help [CMD [SUB]]`: the help that `sbx [CMD [SUB]] --help` prints.
Result<int> run_help(const std::vector<std::string>& words) {
  Invocation unused;
  CLI::App* app = new CLI::App;  // never freed: sbx exits without tearing the tree down
  std::vector<std::string> known;
  for (const auto& c : command_table()) known.emplace_back(c.name);
  if (!words.empty() && !find_command(words[0])) return unknown_command("sbx", words[0], known);
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
  write_out(1, text);
  return kExitOk;
}

}  // namespace

void define_help(CLI::App& parent, Invocation& inv) {
  auto words = std::make_shared<std::vector<std::string>>();
  auto* help = add_command(parent, inv, "help", "Print the help of sbx or of a command", "sbx help [COMMAND...]",
                           "sbx help start\n  sbx help daemon stop", [words] { return run_help(*words); });
  help->add_option("command", *words, "a command, and its subcommand")->type_name("COMMAND");
}

void define_version(CLI::App& parent, Invocation& inv) {
  add_command(parent, inv, "version", "Print the version of sbx", "sbx version", "sbx version",
              [] { return Result<int>(print_version()); });
}

}  // namespace sbx::cli
