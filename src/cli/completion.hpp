#pragma once
// Shell completion scripts, generated from the command tree that sbx parses.

#include <string>

namespace sbx::cli {

/// The script for "bash", "zsh" or "fish"; empty for any other shell.
std::string completion_script(const std::string& shell);

}  // namespace sbx::cli
