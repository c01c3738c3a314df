// sbx --host: the URL, the ssh command line built from it, and the remote start request.

#include "doctest.hpp"

#include <fstream>

#include "cli/host.hpp"
#include "cli/ssh_transport.hpp"
#include "proto/message.hpp"
#include "proto/requests_start.hpp"
#include "temp_dir.hpp"

using namespace sbx;
using namespace sbx::cli;

TEST_CASE("host URL: ssh://[USER@]HOST[:PORT][/REMOTE_HOME]") {
  auto u = parse_host_url("ssh://deploy@build.example:2222/srv/sbx/");
  REQUIRE(u);
  CHECK(u->remote);
  CHECK(u->user == "deploy");
  CHECK(u->host == "build.example");
  CHECK(u->port == 2222);
  CHECK(u->home == "/srv/sbx");
  CHECK(u->name() == "deploy@build.example:2222");
  CHECK(u->url() == "ssh://deploy@build.example:2222/srv/sbx");

  auto bare = parse_host_url("ssh://gpu");
  REQUIRE(bare);
  CHECK(bare->user.empty());
  CHECK(bare->port == 0);
  CHECK(bare->home.empty());
  CHECK(bare->name() == "gpu");

  auto v6 = parse_host_url("ssh://[::1]:22");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 22);
  CHECK(v6->name() == "[::1]:22");

  auto local = parse_host_url("");
  REQUIRE(local);
  CHECK_FALSE(local->remote);
  auto sock = parse_host_url("unix:///run/sbx/sbxd.sock");
  REQUIRE(sock);
  CHECK_FALSE(sock->remote);
  CHECK(sock->socket == "/run/sbx/sbxd.sock");

  for (const char* bad :
       {"http://x", "ssh://", "ssh://@h", "ssh://h:", "ssh://h:0", "ssh://h:65536", "ssh://h:2x",
        "ssh://-oProxyCommand=x", "ssh://[::1", "unix://relative", "build.example"}) {
    CAPTURE(std::string(bad));
    auto r = parse_host_url(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("ssh argv: mux options unless the user has them, -T, port, user, remote command") {
  auto u = *parse_host_url("ssh://me@h:2200/srv/my sbx");
  SshSetup s;
  s.control_dir = "/run/user/1/sbx";
  auto argv = ssh_argv(u, s, false);
  CHECK(argv == std::vector<std::string>{"ssh", "-o", "ControlMaster=auto", "-o",
                                         "ControlPath=/run/user/1/sbx/sbx-ssh-%C", "-o",
                                         "ControlPersist=60s", "-T", "-p", "2200", "-l", "me", "h",
                                         "sbx dial-stdio --home '/srv/my sbx'"});

  s.start_daemon = false;
  s.remote_sbx = "/opt/sbx/bin/sbx";
  s.ssh_command = "ssh -F /etc/x";
  auto theirs = ssh_argv(*parse_host_url("ssh://h"), s, true);
  CHECK(theirs == std::vector<std::string>{"ssh", "-F", "/etc/x", "-T", "h",
                                           "/opt/sbx/bin/sbx dial-stdio --no-start"});

  s.ssh_command = "ssh -i \"$HOME/my key\"";  // shell syntax: through sh, as git does
  auto shell = ssh_argv(*parse_host_url("ssh://h"), s, true);
  REQUIRE(shell.size() >= 4);
  CHECK(shell[0] == "/bin/sh");
  CHECK(shell[1] == "-c");
  CHECK(shell[2] == "ssh -i \"$HOME/my key\" \"$@\"");
  CHECK(shell[3] == "sbx-ssh");
  CHECK(shell.back() == "/opt/sbx/bin/sbx dial-stdio --no-start");
}

TEST_CASE("the user's own ControlMaster or ControlPath is left alone") {
  CHECK(user_sets_mux("ssh -o ControlMaster=no"));
  CHECK(user_sets_mux("ssh -o controlpath=/tmp/x"));
  CHECK(user_sets_mux("ssh -S /tmp/x"));
  TempDir d;
  std::ofstream(d / "mux") << "# ControlMaster auto\nHost *\n  controlmaster=auto\n";
  std::ofstream(d / "plain") << "# ControlMaster auto (a comment)\nHost *\n  User me\n";
  CHECK(user_sets_mux("ssh -F " + (d / "mux")));
  CHECK_FALSE(user_sets_mux("ssh -F " + (d / "plain")));
}

TEST_CASE("a remote start request: no environment sent, cwd relative to the daemon's home") {
  proto::StartRequest r;
  r.argv = {"pwd"};
  r.remote = true;
  r.cwd = "sub";
  r.env["K"] = "v";
  auto o = r.to_json();
  CHECK_FALSE(o.contains("base_env"));
  auto back = proto::StartRequest::from_json(o);
  REQUIRE(back);
  CHECK(back->remote);
  CHECK(back->cwd == "sub");
  CHECK(back->base_env.empty());
  CHECK(back->env.at("K") == "v");

  r.cwd.clear();
  CHECK(proto::StartRequest::from_json(r.to_json()));
  auto with_env = r.to_json();
  with_env["base_env"] = boost::json::array{"A=1"};
  CHECK_FALSE(proto::StartRequest::from_json(with_env));

  proto::StartRequest local;
  local.argv = {"pwd"};
  local.cwd = "sub";  // a local caller always names an absolute folder
  CHECK_FALSE(proto::StartRequest::from_json(local.to_json()));
}

TEST_CASE("a HELLO of another protocol names both versions and where") {
  auto r = proto::check_hello(R"({"proto":7,"name":"sbxd 9.9.9"})", "sbxd", " on h:22",
                              "install the same sbx on both hosts");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("sbxd 9.9.9 on h:22 speaks protocol 7, this one (") == 0);
  CHECK(r.error().message.find("install the same sbx") != std::string::npos);
}

TEST_CASE("the ssh -L line that brings a remote port here") {
  CHECK(tunnel_command(*parse_host_url("ssh://me@box:2222/srv"), 7780) ==
        "ssh -N -L 7780:127.0.0.1:7780 -p 2222 me@box");
  CHECK(tunnel_command(*parse_host_url("ssh://box"), 8000) == "ssh -N -L 8000:127.0.0.1:8000 box");
}
