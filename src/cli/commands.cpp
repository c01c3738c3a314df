// The table of sbx's commands: each is defined in its cmd_*.cpp.

#include <array>

#include "cli/command.hpp"

namespace sbx::cli {

void define_start(CommandDef&);
void define_run(CommandDef&);
void define_up(CommandDef&);
void define_down(CommandDef&);
void define_ps(CommandDef&);
void define_status(CommandDef&);
void define_show(CommandDef&);
void define_stats(CommandDef&);
void define_logs(CommandDef&);
void define_wait(CommandDef&);
void define_wait_log(CommandDef&);
void define_wait_port(CommandDef&);
void define_ports(CommandDef&);
void define_kill(CommandDef&);
void define_rm(CommandDef&);
void define_prune(CommandDef&);
void define_expose(CommandDef&);
void define_unexpose(CommandDef&);
void define_daemon(CommandDef&);
void define_completion(CommandDef&);
void define_dial_stdio(CommandDef&);
void define_help(CommandDef&);
void define_version(CommandDef&);

namespace {

const std::array kCommands{
    CommandEntry{"start", &define_start, true},
    CommandEntry{"run", &define_run, true},
    CommandEntry{"ps", &define_ps},
    CommandEntry{"status", &define_status},
    CommandEntry{"show", &define_show},
    CommandEntry{"stats", &define_stats},
    CommandEntry{"logs", &define_logs},
    CommandEntry{"wait", &define_wait},
    CommandEntry{"wait-log", &define_wait_log},
    CommandEntry{"wait-port", &define_wait_port},
    CommandEntry{"ports", &define_ports},
    CommandEntry{"kill", &define_kill},
    CommandEntry{"rm", &define_rm},
    CommandEntry{"prune", &define_prune},
    CommandEntry{"up", &define_up},
    CommandEntry{"down", &define_down},
    CommandEntry{"expose", &define_expose},
    CommandEntry{"unexpose", &define_unexpose},
    CommandEntry{"daemon", &define_daemon},
    CommandEntry{"completion", &define_completion},
    CommandEntry{"dial-stdio", &define_dial_stdio},
    CommandEntry{"help", &define_help},
    CommandEntry{"version", &define_version},
};

}  // namespace

std::span<const CommandEntry> command_table() { return kCommands; }

const CommandEntry* find_command(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace sbx::cli
