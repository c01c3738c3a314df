// completion: print a completion script (completion.cpp writes it from the command tree).

#include "cli/command.hpp"
#include "cli/completion.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"

namespace sbx::cli {
namespace {

Result<int> run_completion(const std::string& shell) {
  std::string script = completion_script(shell);
  if (script.empty())
    return make_error(Errc::usage, "unknown shell '" + shell + "': use bash, zsh or fish");
  write_out(1, script);
  return kExitOk;
}

}  // namespace

void define_completion(CommandDef& parent) {
  auto shell = std::make_shared<std::string>();
  auto completion = parent.add("completion", "Print a completion script for bash, zsh or fish",
                               "sbx completion SHELL",
                               "source <(sbx completion bash)\n"
                               "  sbx completion zsh > \"${fpath[1]}/_sbx\"\n"
                               "  sbx completion fish > ~/.config/fish/completions/sbx.fish");
  completion.runs([shell] { return run_completion(*shell); });
  completion.option("shell", *shell, "bash, zsh or fish").required().type_name("SHELL");
}

}  // namespace sbx::cli
