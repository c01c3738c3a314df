#include "doctest.hpp"

#include <csignal>
#include <string>

#include "common/signal_names.hpp"

using sbx::Errc;
using sbx::parse_signal;
using sbx::signal_name;

namespace {

int sig_of(const char* text) {
  auto r = parse_signal(text);
  REQUIRE_MESSAGE(r.ok(), "parse_signal(\"" << text << "\") failed: " << r.error().message);
  return *r;
}

}  // namespace

TEST_CASE("parse_signal: names in any case, with or without SIG") {
  CHECK(sig_of("TERM") == SIGTERM);
  CHECK(sig_of("SIGTERM") == SIGTERM);
  CHECK(sig_of("sigterm") == SIGTERM);
  CHECK(sig_of("SigTerm") == SIGTERM);
  CHECK(sig_of("kill") == SIGKILL);
  CHECK(sig_of("Hup") == SIGHUP);
  CHECK(sig_of("INT") == SIGINT);
  CHECK(sig_of("usr1") == SIGUSR1);
  CHECK(sig_of("SIGUSR2") == SIGUSR2);
  CHECK(sig_of("winch") == SIGWINCH);
  CHECK(sig_of("STOP") == SIGSTOP);
  CHECK(sig_of("CONT") == SIGCONT);
}

TEST_CASE("parse_signal: numbers") {
  CHECK(sig_of("15") == 15);
  CHECK(sig_of("9") == 9);
  CHECK(sig_of("1") == 1);
  CHECK(sig_of("31") == 31);
  CHECK(sig_of("64") == SIGRTMAX);  // a real-time signal given by number
}

TEST_CASE("parse_signal: rejects unknown names and numbers as usage errors") {
  for (const char* bad : {"SIGFOO", "0", "99", "", "-9", "65", "SIG", "15x", "9 ", " 9", "TERM ",
                          "SIGSIGTERM", "x15", "1.5"}) {
    CAPTURE(std::string(bad));
    auto r = parse_signal(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("signal_name") {
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(SIGHUP) == "SIGHUP");
  CHECK(signal_name(SIGINT) == "SIGINT");
  CHECK(signal_name(SIGSEGV) == "SIGSEGV");
  CHECK(signal_name(37) == "SIG37");
  CHECK(signal_name(64) == "SIG64");
}

TEST_CASE("signal_name and parse_signal agree for 1..31") {
  for (int n = 1; n <= 31; ++n) {
    CAPTURE(n);
    std::string name = signal_name(n);
    REQUIRE(name.rfind("SIG", 0) == 0);
    auto back = parse_signal(name);
    REQUIRE(back.ok());
    CHECK(*back == n);
  }
}
