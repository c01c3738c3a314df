// The typed requests of the waits, logs and daemon ops: what to_json sends, from_json reads back.

#include "doctest.hpp"

#include <boost/json.hpp>

#include "proto/requests_daemon.hpp"
#include "proto/requests_ports.hpp"
#include "proto/requests_waits.hpp"

using namespace sbx;
using namespace sbx::proto;
namespace json = boost::json;

TEST_CASE("logs request: resume offsets round-trip, both streams by default") {
  LogsRequest r;
  r.id = "web";
  r.follow = true;
  r.from.at[0] = 7;
  r.from.at[1] = 0;
  auto back = LogsRequest::from_json(r.to_json());
  REQUIRE(back);
  CHECK(back->follow);
  CHECK(back->want_stdout);
  CHECK(back->want_stderr);
  CHECK_FALSE(back->tail);
  CHECK(back->from.at[0] == 7);
  CHECK(back->from.at[1] == 0);
  CHECK_FALSE(LogsRequest::from_json(json::object{}));
}

TEST_CASE("wait_log request: pattern bytes, stream checked, deadline carried") {
  WaitLogRequest r;
  r.id = "web";
  r.pattern = std::string("\xff ready", 7);  // not UTF-8: travels as base64
  r.stream = "stderr";
  r.deadline.timeout = Millis(500);
  r.deadline.waited = Millis(250);
  auto o = r.to_json();
  CHECK(o.at("pattern").is_object());
  auto back = WaitLogRequest::from_json(o);
  REQUIRE(back);
  CHECK(back->pattern == r.pattern);
  CHECK(back->stream == "stderr");
  CHECK(back->deadline.asked() == Millis(750));
  CHECK_FALSE(back->from.at[0]);

  CHECK(WaitLogRequest::from_json(json::object{{"id", "a"}}).error().code == Errc::protocol);
  CHECK(WaitLogRequest::from_json(json::object{{"id", "a"}, {"pattern", "x"}, {"stream", "up"}})
            .error()
            .code == Errc::usage);
  auto both = WaitLogRequest::from_json(json::object{{"id", "a"}, {"pattern", "x"}});
  REQUIRE(both);
  CHECK(both->stream == "both");
}

TEST_CASE("wait_port request: default hosts and statuses, port checked") {
  auto r = WaitPortRequest::from_json(json::object{{"id", "a"}, {"port", 8000}});
  REQUIRE(r);
  CHECK(r->hosts == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(r->status_lo == 200);
  CHECK(r->status_hi == 399);
  CHECK_FALSE(r->interval);
  CHECK_FALSE(r->any_owner);
  CHECK(WaitPortRequest::from_json(json::object{{"id", "a"}, {"port", 70000}}).error().code ==
        Errc::usage);
  CHECK(WaitPortRequest::from_json(json::object{{"id", "a"}}).error().code == Errc::protocol);
  // port 0: whichever the tree listens on; any owner needs a port of its own
  auto any = WaitPortRequest::from_json(json::object{{"id", "a"}, {"port", 0}});
  REQUIRE(any);
  CHECK(any->port == 0);
  CHECK(WaitPortRequest::from_json(json::object{{"id", "a"}, {"port", 0}, {"any_owner", true}})
            .error()
            .code == Errc::usage);

  WaitPortRequest p;
  p.id = "a";
  p.port = 80;
  p.http_path = "/health";
  p.status_lo = p.status_hi = 204;
  p.interval = Millis(0);
  p.any_owner = true;
  auto back = WaitPortRequest::from_json(p.to_json());
  REQUIRE(back);
  CHECK(back->any_owner);
  CHECK(back->http_path == std::string("/health"));
  CHECK(back->status_lo == 204);
  CHECK(back->interval == Millis(1));  // at least 1 ms between probes
}

TEST_CASE("offset events: a type reads only its own") {
  StreamOffsets at;
  at.at[1] = 42;
  auto ev = json::value(offsets_event(kScannedEvent, at));
  auto back = read_offsets_event(ev, kScannedEvent);
  REQUIRE(back);
  CHECK_FALSE(back->at[0]);
  CHECK(back->at[1] == 42);
  CHECK_FALSE(read_offsets_event(ev, kOffsetsEvent));
  CHECK_FALSE(read_offsets_event(json::value(1), kOffsetsEvent));
}

TEST_CASE("daemon replies: status and stop round-trip; what is missing reads as 0 or ?") {
  DaemonStatusReply s;
  s.pid = 12;
  s.version = "0.1";
  s.total = 3;
  s.running = 1;
  auto back = DaemonStatusReply::from_json(s.to_json());
  CHECK(back.pid == 12);
  CHECK(back.version == "0.1");
  CHECK(back.total == 3);
  CHECK(back.running == 1);
  auto bare = DaemonStatusReply::from_json(json::object{});
  CHECK(bare.pid == 0);
  CHECK(bare.socket == "?");

  DaemonStopReply stop;
  stop.ids = {"a", "b"};
  CHECK(DaemonStopReply::from_json(stop.to_json()).ids == stop.ids);
  CHECK(DaemonStopReply::from_json(json::value(1)).ids.empty());
}

TEST_CASE(
    "wait_port reply: port, host and HTTP status round-trip; a reply without a port is "
    "refused") {
  auto back = WaitPortReply::from_json(WaitPortReply{5173, "::1", 204}.to_json());
  REQUIRE(back);
  CHECK(back->port == 5173);
  CHECK(back->host == "::1");
  CHECK(back->status == 204);
  // Not HTTP: no status on the wire, 0 read back.
  auto tcp = WaitPortReply{80, "127.0.0.1", 0}.to_json();
  CHECK_FALSE(tcp.as_object().contains("status"));
  REQUIRE(WaitPortReply::from_json(tcp));
  CHECK(WaitPortReply::from_json(tcp)->status == 0);
  CHECK_FALSE(WaitPortReply::from_json(json::object{{"host", "::1"}}));
  CHECK_FALSE(WaitPortReply::from_json(json::object{{"port", "80"}}));
  CHECK_FALSE(WaitPortReply::from_json(json::value(80)));
}

TEST_CASE("wait_log reply: the line and groups as bytes") {
  WaitLogReply r;
  r.line = std::string("port \xff 80", 9);
  r.match = {"port", "80"};
  r.stream = "stderr";
  auto back = WaitLogReply::from_json(r.to_json());
  REQUIRE(back);
  CHECK(back->line == r.line);
  CHECK(back->match == r.match);
  CHECK(back->stream == "stderr");
  CHECK_FALSE(WaitLogReply::from_json(json::object{{"match", json::array{}}}));
}

TEST_CASE("ports request and its entries round-trip; command bytes that are not UTF-8 survive") {
  auto r = PortsRequest::from_json(PortsRequest{"web"}.to_json());
  REQUIRE(r);
  CHECK(r->id == "web");
  CHECK(PortsRequest::from_json(json::object{}).error().code == Errc::protocol);

  PortEntry e{5173, "tcp", "::", 42, std::string("node \xff", 6)};
  json::array list{e.to_json(), json::value(7)};
  auto back = port_entries_from_json(json::value(list));
  REQUIRE(back.size() == 1);
  CHECK(back[0].port == 5173);
  CHECK(back[0].proto == "tcp");
  CHECK(back[0].address == "::");
  CHECK(back[0].pid == 42);
  CHECK(back[0].command == e.command);
  CHECK(port_entries_from_json(json::value(1)).empty());
}
