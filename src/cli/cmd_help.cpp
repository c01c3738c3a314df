// help and version.

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"

namespace sbx::cli {

void define_help(CommandDef& parent) {
  auto words = std::make_shared<std::vector<std::string>>();
  auto help = parent.add("help", "Print the help of sbx or of a command", "sbx help [COMMAND...]",
                         "sbx help start\n  sbx help daemon stop");
  help.runs([words]() -> Result<int> {
    auto text = help_text(*words);
    if (!text) return text.error();
    write_out(1, *text);
    return kExitOk;
  });
  help.option("command", *words, "a command, and its subcommand").type_name("COMMAND");
}

void define_version(CommandDef& parent) {
  parent.add("version", "Print the version of sbx", "sbx version", "sbx version").runs([] {
    return Result<int>(print_version());
  });
}

}  // namespace sbx::cli
