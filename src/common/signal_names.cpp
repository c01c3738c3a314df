#include "common/signal_names.hpp"

#include <charconv>
#include <csignal>

namespace sbx {
namespace {

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

}  // namespace

Result<int> parse_signal(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::usage, "bad signal '" + std::string(text) +
                                       "': use a name like TERM, SIGKILL, HUP or a number 1-64");
  };
  if (text.empty()) return bad();
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > SIGRTMAX)
      return bad();
    return n;
  }
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (name == s.name) return s.number;
  }
  return bad();
}

std::string signal_name(int sig) {
  for (const auto& s : kSignals) {
    if (s.number == sig) return std::string("SIG") + s.name;
  }
  return "SIG" + std::to_string(sig);
}

}  // namespace sbx
