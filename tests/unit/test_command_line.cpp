#include "doctest.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "temp_dir.hpp"

using sbx::find_program;
using sbx::parse_env_assignment;
using sbx::parse_env_file;
using sbx::shell_join;
using sbx::split_plain_command;
using Words = std::vector<std::string>;

namespace {

void make_file(const std::string& path, mode_t mode) {
  { std::ofstream(path) << "#!/bin/sh\nexit 0\n"; }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

// ---------------------------------------------------------------- split_plain_command

TEST_CASE("split_plain_command: plain words") {
  CHECK(split_plain_command("ls") == Words{"ls"});
  CHECK(split_plain_command("ls -la /tmp") == Words{"ls", "-la", "/tmp"});
  CHECK(split_plain_command("  sleep   10  ") == Words{"sleep", "10"});
  CHECK(split_plain_command("sleep\t10") == Words{"sleep", "10"});
  CHECK(split_plain_command("python3 -m http.server 8080") ==
        Words{"python3", "-m", "http.server", "8080"});
  CHECK(split_plain_command("curl user@host:8080/a_b,c%20+d") ==
        Words{"curl", "user@host:8080/a_b,c%20+d"});
  // '=' is fine after the first word.
  CHECK(split_plain_command("env FOO=bar cmd") == Words{"env", "FOO=bar", "cmd"});
  CHECK(split_plain_command("make -j2 CC=gcc") == Words{"make", "-j2", "CC=gcc"});
}

TEST_CASE("split_plain_command: anything a shell would interpret gives nullopt") {
  for (const char* line : {
           "echo 'hi'",    "echo \"hi\"",   "echo $HOME",
           "echo ${X}",    "ls | wc",       "ls > out",
           "ls < in",      "ls *",          "ls ?",
           "ls [ab]",      "cd ~",          "a; b",
           "a && b",       "sleep 1 &",     "echo `date`",
           "echo $(date)", "FOO=bar cmd",   "FOO=bar",
           "=x",           "echo a\\ b",    "(ls)",
           "{ ls; }",      "echo #comment", "echo !x",
           "echo a\nb",    "ls\r",          "echo caf\xC3\xA9",
       }) {
    CAPTURE(std::string(line));
    CHECK_FALSE(split_plain_command(line).has_value());
  }
}

TEST_CASE("split_plain_command: empty or blank line gives nullopt") {
  CHECK_FALSE(split_plain_command("").has_value());
  CHECK_FALSE(split_plain_command("   ").has_value());
  CHECK_FALSE(split_plain_command("\t").has_value());
}

TEST_CASE("is_shell_builtin: what sh runs without a program") {
  for (const char* w :
       {"exit", "cd",   "export", "set",    ".",      ":",  "exec",  "wait",   "read",  "unset",
        "eval", "trap", "shift",  "return", "source", "if", "while", "ulimit", "umask", "alias"}) {
    CAPTURE(std::string(w));
    CHECK(sbx::is_shell_builtin(w));
  }
  for (const char* w :
       {"", "nosuchprog", "ls", "Exit", "exit3", "cd/", "..", "::", "sleep", "python3"}) {
    CAPTURE(std::string(w));
    CHECK_FALSE(sbx::is_shell_builtin(w));
  }
}

// ---------------------------------------------------------------- shell_join

TEST_CASE("shell_join: exact quoting") {
  CHECK(shell_join({}) == "");
  CHECK(shell_join({"ls", "-la"}) == "ls -la");
  CHECK(shell_join({"it's"}) == "'it'\"'\"'s'");
  CHECK(shell_join({""}) == "''");
  CHECK(shell_join({"echo", ""}) == "echo ''");
  CHECK(shell_join({"a b"}) == "'a b'");
  CHECK(shell_join({"echo", "hello world"}) == "echo 'hello world'");
  CHECK(shell_join({"echo", "$HOME"}) == "echo '$HOME'");
  CHECK(shell_join({"sh", "-c", "ls | wc -l"}) == "sh -c 'ls | wc -l'");
  CHECK(shell_join({"'"}) == "''\"'\"''");
  CHECK(shell_join({"a\nb"}) == "'a\nb'");
  CHECK(shell_join({"FOO=bar"}) == "FOO=bar");
  CHECK(shell_join({"user@host:/a_b,c%+d.e-f"}) == "user@host:/a_b,c%+d.e-f");
}

TEST_CASE("shell_join of plain words splits back to the same words") {
  Words argv{"python3", "-m", "http.server", "8080"};
  CHECK(split_plain_command(shell_join(argv)) == argv);
}

// ---------------------------------------------------------------- find_program

TEST_CASE("find_program: absolute path") {
  int err = 0;
  auto p = find_program("/bin/sh", "", "/", err);
  REQUIRE(p.has_value());
  CHECK(*p == "/bin/sh");

  err = 0;
  CHECK_FALSE(find_program("/no/such/program", "/bin", "/", err).has_value());
  CHECK(err == ENOENT);
}

TEST_CASE("find_program: relative path is taken relative to cwd, PATH unused") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "sub").c_str(), 0755) == 0);
  make_file(dir / "sub/tool", 0755);
  int err = 0;
  auto p = find_program("sub/tool", "/bin:/usr/bin", dir.path, err);
  REQUIRE(p.has_value());
  CHECK(*p == dir.path + "/sub/tool");

  make_file(dir / "here", 0755);
  p = find_program("./here", "", dir.path, err);
  REQUIRE(p.has_value());
  CHECK(std::filesystem::equivalent(*p, dir / "here"));

  // A name with a '/' is not searched in PATH even if PATH has it.
  err = 0;
  CHECK_FALSE(find_program("./tool", dir / "sub", dir.path, err).has_value());
  CHECK(err == ENOENT);
}

TEST_CASE("find_program: PATH search") {
  TempDir dir;
  for (const char* d : {"a", "b", "c"}) REQUIRE(::mkdir((dir / d).c_str(), 0755) == 0);
  make_file(dir / "b/prog", 0755);
  make_file(dir / "c/prog", 0755);
  int err = 0;

  SUBCASE("first match wins") {
    auto p = find_program("prog", dir / "a" + ":" + dir / "b" + ":" + dir / "c", "/", err);
    REQUIRE(p.has_value());
    CHECK(*p == dir / "b/prog");
  }
  SUBCASE("missing folders in PATH are skipped") {
    auto p = find_program("prog", "/no/such/dir:" + dir / "c", "/", err);
    REQUIRE(p.has_value());
    CHECK(*p == dir / "c/prog");
  }
  SUBCASE("a relative PATH entry is relative to cwd") {
    auto p = find_program("prog", "c", dir.path, err);
    REQUIRE(p.has_value());
    CHECK(*p == dir.path + "/c/prog");
  }
  SUBCASE("an empty PATH entry means the cwd") {
    make_file(dir / "local", 0755);
    auto p = find_program("local", "/no/such/dir:", dir.path, err);
    REQUIRE(p.has_value());
    CHECK(std::filesystem::equivalent(*p, dir / "local"));
  }
  SUBCASE("not found anywhere is ENOENT") {
    err = 0;
    CHECK_FALSE(find_program("nope", dir / "a" + ":" + dir / "b", "/", err).has_value());
    CHECK(err == ENOENT);
  }
  SUBCASE("empty name is ENOENT") {
    err = 0;
    CHECK_FALSE(find_program("", dir / "b", "/", err).has_value());
    CHECK(err == ENOENT);
  }
}

TEST_CASE("find_program: not executable is EACCES") {
  TempDir dir;
  make_file(dir / "noexec", 0644);
  int err = 0;

  SUBCASE("absolute") {
    CHECK_FALSE(find_program(dir / "noexec", "", "/", err).has_value());
    CHECK(err == EACCES);
  }
  SUBCASE("in PATH") {
    CHECK_FALSE(find_program("noexec", dir.path, "/", err).has_value());
    CHECK(err == EACCES);
  }
  SUBCASE("EACCES in one folder beats ENOENT in a later one") {
    CHECK_FALSE(find_program("noexec", dir.path + ":/no/such/dir", "/", err).has_value());
    CHECK(err == EACCES);
  }
  SUBCASE("an executable later in PATH is still found") {
    REQUIRE(::mkdir((dir / "bin").c_str(), 0755) == 0);
    make_file(dir / "bin/noexec", 0755);
    auto p = find_program("noexec", dir.path + ":" + dir / "bin", "/", err);
    REQUIRE(p.has_value());
    CHECK(*p == dir / "bin/noexec");
  }
  SUBCASE("a folder is not a program") {
    REQUIRE(::mkdir((dir / "adir").c_str(), 0755) == 0);
    CHECK_FALSE(find_program(dir / "adir", "", "/", err).has_value());
    CHECK(err == EACCES);
    err = 0;
    CHECK_FALSE(find_program("adir", dir.path, "/", err).has_value());
    CHECK(err == EACCES);
  }
}

// ---------------------------------------------------------------- parse_env_file

TEST_CASE("parse_env_file: comments, blank lines, export, quotes") {
  std::map<std::string, std::string> env;
  auto err = parse_env_file(
      "# a comment\n"
      "\n"
      "A=1\n"
      "   \n"
      "  # indented comment\n"
      "export B=two words\n"
      "C=\"double quoted\"\n"
      "D='single quoted'\n"
      "E=\"mismatched'\n"
      "F=\n"
      "G=a=b=c\n"
      "  H = spaced  \n"
      "I=\"  keep inner spaces  \"\n"
      "J=\"\"\n"
      "K=\"\n"
      "L=crlf\r\n"
      "_M9=last",
      env);
  REQUIRE_FALSE(err.has_value());
  std::map<std::string, std::string> want{
      {"A", "1"},
      {"B", "two words"},
      {"C", "double quoted"},
      {"D", "single quoted"},
      {"E", "\"mismatched'"},
      {"F", ""},
      {"G", "a=b=c"},
      {"H", "spaced"},
      {"I", "  keep inner spaces  "},
      {"J", ""},
      {"K", "\""},
      {"L", "crlf"},
      {"_M9", "last"},
  };
  CHECK(env == want);
}

TEST_CASE("parse_env_file: later lines override, existing entries kept") {
  std::map<std::string, std::string> env{{"KEEP", "k"}, {"A", "old"}};
  REQUIRE_FALSE(parse_env_file("A=1\nA=2\n", env).has_value());
  CHECK(env == std::map<std::string, std::string>{{"KEEP", "k"}, {"A", "2"}});
}

TEST_CASE("parse_env_file: empty text") {
  std::map<std::string, std::string> env;
  CHECK_FALSE(parse_env_file("", env).has_value());
  CHECK_FALSE(parse_env_file("\n\n# only comments\n", env).has_value());
  CHECK(env.empty());
}

TEST_CASE("parse_env_file: the bad line number is reported") {
  std::map<std::string, std::string> env;
  SUBCASE("no '='") {
    auto err = parse_env_file("A=1\n# c\n\nJUSTAWORD\nB=2\n", env);
    REQUIRE(err.has_value());
    CHECK(err->line == 4);
    CHECK_FALSE(err->message.empty());
  }
  SUBCASE("bad name") {
    auto err = parse_env_file("A=1\n1BAD=x\n", env);
    REQUIRE(err.has_value());
    CHECK(err->line == 2);
    CHECK(err->message.find("1BAD") != std::string::npos);
  }
  SUBCASE("empty name") {
    auto err = parse_env_file("=x\n", env);
    REQUIRE(err.has_value());
    CHECK(err->line == 1);
  }
  SUBCASE("dash in name") {
    auto err = parse_env_file("\n\n\nMY-VAR=1", env);
    REQUIRE(err.has_value());
    CHECK(err->line == 4);
  }
  SUBCASE("CRLF line counting") {
    auto err = parse_env_file("A=1\r\nB=2\r\noops\r\n", env);
    REQUIRE(err.has_value());
    CHECK(err->line == 3);
  }
}

// ---------------------------------------------------------------- parse_env_assignment

TEST_CASE("parse_env_assignment") {
  std::string k, v;
  CHECK(parse_env_assignment("A=1", k, v));
  CHECK(k == "A");
  CHECK(v == "1");
  CHECK(parse_env_assignment("EMPTY=", k, v));
  CHECK(k == "EMPTY");
  CHECK(v == "");
  CHECK(parse_env_assignment("X=a=b c", k, v));
  CHECK(k == "X");
  CHECK(v == "a=b c");
  CHECK(parse_env_assignment("_under_9=\"q\"", k, v));
  CHECK(k == "_under_9");
  CHECK(v == "\"q\"");  // -e values are taken literally

  for (const char* bad : {"NOEQ", "", "=v", "1A=x", "A-B=x", "A B=x", " A=x", "A.B=x"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_env_assignment(bad, k, v));
  }
}
