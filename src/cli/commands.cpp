// The table of sbx's commands: each is defined in its cmd_*.cpp.

#include <CLI/CLI.hpp>
#include <array>

#include "cli/command.hpp"

namespace sbx::cli {

void define_start(CLI::App&, Invocation&);
void define_ps(CLI::App&, Invocation&);
void define_status(CLI::App&, Invocation&);
void define_show(CLI::App&, Invocation&);
void define_logs(CLI::App&, Invocation&);
void define_wait(CLI::App&, Invocation&);
void define_wait_log(CLI::App&, Invocation&);
void define_wait_port(CLI::App&, Invocation&);
void define_kill(CLI::App&, Invocation&);
void define_rm(CLI::App&, Invocation&);
void define_prune(CLI::App&, Invocation&);
void define_daemon(CLI::App&, Invocation&);
void define_completion(CLI::App&, Invocation&);
void define_help(CLI::App&, Invocation&);
void define_version(CLI::App&, Invocation&);

namespace {

const std::array kCommands{
    CommandEntry{"start", &define_start, true},
    CommandEntry{"ps", &define_ps},
    CommandEntry{"status", &define_status},
    CommandEntry{"show", &define_show},
    CommandEntry{"logs", &define_logs},
    CommandEntry{"wait", &define_wait},
    CommandEntry{"wait-log", &define_wait_log},
    CommandEntry{"wait-port", &define_wait_port},
    CommandEntry{"kill", &define_kill},
    CommandEntry{"rm", &define_rm},
    CommandEntry{"prune", &define_prune},
    CommandEntry{"daemon", &define_daemon},
    CommandEntry{"completion", &define_completion},
    CommandEntry{"help", &define_help},
    CommandEntry{"version", &define_version},
};

/// The usage line of a command's help: its whole form, not CLI11's "[OPTIONS]" alone.
class UsageFormatter : public CLI::Formatter {
 public:
  explicit UsageFormatter(std::string usage) : usage_(std::move(usage)) {}
  std::string make_usage(const CLI::App*, std::string) const override { return "Usage: " + usage_ + "\n"; }

 private:
  std::string usage_;
};

}  // namespace

std::span<const CommandEntry> command_table() { return kCommands; }

const CommandEntry* find_command(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

CLI::App* add_command(CLI::App& parent, Invocation& inv, const char* name, const char* help, const char* usage,
                      const char* example, RunFn run) {
  auto* sub = parent.add_subcommand(name, help);
  sub->formatter(std::make_shared<UsageFormatter>(usage));
  sub->footer(std::string("Example:\n  ") + example);
  sub->callback([&inv, run = std::move(run)] { inv.run = run; });
  return sub;
}

}  // namespace sbx::cli
