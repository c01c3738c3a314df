// The typed requests: what to_json sends, from_json reads back and checks.

#include "doctest.hpp"

#include <boost/json.hpp>

#include "common/defaults.hpp"
#include "common/record.hpp"
#include "proto/requests_records.hpp"
#include "proto/requests_start.hpp"

using namespace sbx;
using namespace sbx::proto;
namespace json = boost::json;

TEST_CASE("kill request: defaults round-trip, limits refused") {
  KillRequest k;
  k.ids = {"web"};
  auto back = KillRequest::from_json(k.to_json());
  REQUIRE(back);
  CHECK(back->ids == std::vector<std::string>{"web"});
  CHECK(back->signal == kStopSignal);
  CHECK(back->grace == kStopGrace);
  CHECK(back->stop);
  CHECK(back->wait);
  CHECK_FALSE(back->all);

  // What an older client leaves out means the defaults.
  auto bare = KillRequest::from_json(json::object{{"ids", json::array{"a"}}});
  REQUIRE(bare);
  CHECK(bare->signal == kStopSignal);
  CHECK(bare->grace == kStopGrace);

  CHECK(KillRequest::from_json(json::object{}).error().code == Errc::usage);
  CHECK(KillRequest::from_json(json::object{{"ids", json::array{"a"}}, {"signal", 65}})
            .error()
            .code == Errc::usage);
  CHECK(KillRequest::from_json(json::object{{"ids", json::array{"no/slash"}}}).error().code ==
        Errc::usage);
  CHECK(KillRequest::from_json(json::object{{"ids", json::array{1}}}).error().code ==
        Errc::protocol);
}

TEST_CASE("kill request: a session that is not UTF-8 travels as bytes") {
  KillRequest k;
  k.all = true;
  k.session = std::string("s\xff", 2);
  auto o = k.to_json();
  CHECK(o.at("session").is_object());
  auto back = KillRequest::from_json(o);
  REQUIRE(back);
  CHECK(back->session == std::string("s\xff", 2));
}

TEST_CASE("ps request: statuses, live and ended") {
  PsRequest p;
  p.status = {"live", "failed"};
  auto back = PsRequest::from_json(p.to_json());
  REQUIRE(back);
  auto st = back->statuses();
  CHECK(st ==
        std::vector<ProcStatus>{ProcStatus::starting, ProcStatus::running, ProcStatus::failed});
  // One word, as a string, is a list of one.
  auto one = PsRequest::from_json(json::object{{"status", "ended"}});
  REQUIRE(one);
  CHECK(one->statuses().size() == 4);
  auto bad = PsRequest::from_json(json::object{{"status", json::array{"live", "bogus"}}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("'bogus'") != std::string::npos);
  CHECK(PsRequest::from_json(json::object{})->statuses().empty());
}

TEST_CASE("show and rm requests") {
  auto s = ShowRequest::from_json(ShowRequest{"web", true}.to_json());
  REQUIRE(s);
  CHECK(s->id == "web");
  CHECK(s->toml);
  CHECK(ShowRequest::from_json(json::object{}).error().code == Errc::protocol);
  CHECK(RmRequest::from_json(RmRequest{{}, false}.to_json()).error().code == Errc::usage);
  auto r = RmRequest::from_json(RmRequest{{"a", "b"}, true}.to_json());
  REQUIRE(r);
  CHECK(r->force);
  CHECK(r->ids.size() == 2);
}

TEST_CASE("show's TOML reply: the text round-trips, a reply without it is refused") {
  auto back = ShowTomlReply::from_json(ShowTomlReply{"id = \"web\"\n"}.to_json());
  REQUIRE(back);
  CHECK(back->toml == "id = \"web\"\n");
  CHECK_FALSE(ShowTomlReply::from_json(json::object{}));
  CHECK_FALSE(ShowTomlReply::from_json(json::object{{"toml", 1}}));
  CHECK_FALSE(ShowTomlReply::from_json(json::value("id = 1")));
}

TEST_CASE(
    "kill reply: records and the ids already ended round-trip; what is malformed is left "
    "out") {
  KillReply k;
  k.records = json::array{json::object{{"id", "web"}}, json::object{{"id", "db"}}};
  k.already_ended = {"db"};
  auto o = k.to_json();
  CHECK(o.at("records").is_array());
  CHECK(o.at("already_ended").is_array());
  auto back = KillReply::from_json(o);
  CHECK(back.records == k.records);
  CHECK(back.already_ended == k.already_ended);

  auto bad = KillReply::from_json(
      json::object{{"records", "web"}, {"already_ended", json::array{"a", 1, nullptr}}});
  CHECK(bad.records.empty());
  CHECK(bad.already_ended == std::vector<std::string>{"a"});
  auto none = KillReply::from_json(json::value(1));
  CHECK(none.records.empty());
  CHECK(none.already_ended.empty());
}

TEST_CASE("rm reply: the ids removed round-trip; what is malformed is left out") {
  RmReply r{{"a", "b"}};
  auto o = r.to_json();
  CHECK(o.at("removed").is_array());
  CHECK(RmReply::from_json(o).removed == r.removed);
  CHECK(RmReply::from_json(json::object{}).removed.empty());
  CHECK(RmReply::from_json(json::object{{"removed", "a"}}).removed.empty());
  CHECK(RmReply::from_json(json::object{{"removed", json::array{1, "b"}}}).removed ==
        std::vector<std::string>{"b"});
  CHECK(RmReply::from_json(json::value(nullptr)).removed.empty());
}

TEST_CASE("stats request: ids round-trip, none is every live process, each id checked") {
  auto s = StatsRequest::from_json(StatsRequest{{"web", "db"}}.to_json());
  REQUIRE(s);
  CHECK(s->ids == std::vector<std::string>{"web", "db"});
  auto all = StatsRequest::from_json(json::object{});
  REQUIRE(all);
  CHECK(all->ids.empty());
  CHECK(StatsRequest::from_json(json::object{{"ids", json::array{"-x"}}}).error().code ==
        Errc::usage);
  CHECK(StatsRequest::from_json(json::object{{"ids", json::array{1}}}).error().code ==
        Errc::protocol);
}

TEST_CASE("checked_json refuses what the daemon would") {
  CHECK_FALSE(checked_json(RmRequest{}));
  CHECK(checked_json(RmRequest{{"a"}, false}));
}

TEST_CASE("shared limits") {
  CHECK(check_log_max(0));
  CHECK(check_log_max(kMinLogMax));
  CHECK_FALSE(check_log_max(kMinLogMax - 1));
  CHECK(check_port(kMaxPort));
  CHECK_FALSE(check_port(kMaxPort + 1));
  CHECK_FALSE(check_port(0));
  CHECK(check_restart_policy("on-failure"));
  CHECK_FALSE(check_restart_policy("sometimes"));
  CHECK(parse_status_filter("live")->size() == 2);
  CHECK_FALSE(parse_status_filter("alive"));
}

TEST_CASE("start request: bytes and defaults round-trip, the daemon's rules") {
  StartRequest s;
  s.argv = {"printf", std::string("\xff", 1)};
  s.cwd = "/tmp";
  s.env["K"] = std::string("v\xfe", 2);
  s.base_env = {"PATH=/bin"};
  auto back = StartRequest::from_json(s.to_json());
  REQUIRE(back);
  CHECK(back->argv == s.argv);
  CHECK(back->env == s.env);
  CHECK(back->session == "default");
  CHECK(back->restart == "no");
  CHECK(back->log_max == kDefaultLogMax);
  CHECK_FALSE(back->max_restarts);

  auto with = [&](auto change) {
    StartRequest r = s;
    change(r);
    return StartRequest::from_json(r.to_json());
  };
  CHECK(with([](StartRequest& r) { r.restart = "sometimes"; }).error().code == Errc::usage);
  CHECK(with([](StartRequest& r) { r.log_max = kMinLogMax - 1; }).error().code == Errc::usage);
  CHECK(with([](StartRequest& r) { r.log_max = 0; }));
  CHECK(with([](StartRequest& r) { r.cwd = "rel"; }).error().code == Errc::protocol);
  CHECK(with([](StartRequest& r) { r.argv.clear(); }).error().code == Errc::usage);
  CHECK(with([](StartRequest& r) { r.env["1BAD"] = "x"; }).error().code == Errc::usage);
  auto shell = with([](StartRequest& r) {
    r.argv.clear();
    r.shell_line = "echo hi";
  });
  REQUIRE(shell);
  CHECK(shell->shell_line == "echo hi");
  CHECK_FALSE(back->tty);
  auto tty = with([](StartRequest& r) {
    r.tty = true;
    r.tty_size = "132x50";
  });
  REQUIRE(tty);
  CHECK(tty->tty);
  CHECK(tty->tty_size == "132x50");
  CHECK(with([](StartRequest& r) { r.tty = true; })->tty_size == kDefaultTtySize);
  CHECK(with([](StartRequest& r) { r.tty_size = "100x30"; }).error().code ==
        Errc::usage);  // no --tty
  CHECK(with([](StartRequest& r) {
          r.tty = true;
          r.tty_size = "100by30";
        })
            .error()
            .code == Errc::usage);
}

TEST_CASE("parse_tty_size: COLSxROWS, each 1-65535") {
  auto ok = parse_tty_size("80x24");
  REQUIRE(ok);
  CHECK(ok->cols == 80);
  CHECK(ok->rows == 24);
  CHECK(parse_tty_size("65535x1")->cols == 65535);
  for (const char* bad : {"", "x", "80", "80x", "x24", "0x24", "80x0", "65536x1", "-1x2", "80X24",
                          "8 0x24", "80x24x1", "123456x2"}) {
    auto r = parse_tty_size(bad);
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("start request: the definition of a project's process travels, checked") {
  StartRequest s;
  s.argv = {"true"};
  s.cwd = "/tmp";
  CHECK_FALSE(s.to_json().contains("definition"));
  CHECK(StartRequest::from_json(s.to_json())->definition.empty());
  s.definition = "0123456789abcdef";
  auto back = StartRequest::from_json(s.to_json());
  REQUIRE(back);
  CHECK(back->definition == "0123456789abcdef");
  s.definition = "Not/Plain";
  CHECK(StartRequest::from_json(s.to_json()).error().code == Errc::protocol);
  s.definition = std::string(kMaxDefinitionSize + 1, 'a');
  CHECK(StartRequest::from_json(s.to_json()).error().code == Errc::protocol);
}
