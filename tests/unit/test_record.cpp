#include "doctest.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <string>

#include "common/json_text.hpp"
#include "common/record.hpp"
#include "common/record_json.hpp"

using sbx::Errc;
using sbx::ProcessRecord;
using sbx::ProcStatus;
namespace json = boost::json;

namespace {

// Every optional key set, and strings that need escaping in both TOML and JSON.
ProcessRecord full_record() {
  ProcessRecord r;
  r.id = "web-1.a_b";
  r.command = "python3 -c 'print(\"hi\")' | tee \"out file\"";
  r.argv = {"/bin/sh", "-c", "echo \"quoted\" 'single' \\back\\slash\n\tnext line", "",
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"};
  r.cwd = "/tmp/dir with spaces/\"q\"";
  r.env = {{"A", "1"},
           {"EMPTY", ""},
           {"MULTI", "line1\nline2\r\nline3"},
           {"QUOTES", "say \"hi\" and 'bye'"},
           {"UNI", "\xE6\x97\xA5\xE6\x9C\xAC"},
           {"Z_LAST", "tab\there"}};
  r.session = "my-session";
  r.pid = 123456;
  r.pid_start_ticks = 9'876'543'210ULL;
  r.status = ProcStatus::killed;
  r.start_time = 1700000000123;
  r.end_time = 1700000042999;
  r.exit_code = 7;
  r.signal = "SIGTERM";
  r.error = "cannot exec: \"No such file\"\nsecond line";
  r.timeout_ms = 90'000;
  r.auto_cleanup = true;
  r.restart = "on-failure";
  r.restarts = 3;
  return r;
}

// Only the required keys; every optional is unset.
ProcessRecord minimal_record() {
  ProcessRecord r;
  r.id = "x";
  r.status = ProcStatus::starting;
  return r;
}

// JSON goes to clients, which have no use for pid_start_ticks (a daemon-side guard against
// pid reuse): whether record_to_json sends it is not checked, only that it reads it.
enum class Ticks { compare, skip };

void check_same(const ProcessRecord& a, const ProcessRecord& b, Ticks ticks = Ticks::compare) {
  CHECK(a.id == b.id);
  CHECK(a.command == b.command);
  CHECK(a.argv == b.argv);
  CHECK(a.cwd == b.cwd);
  CHECK(a.env == b.env);
  CHECK(a.session == b.session);
  CHECK(a.pid == b.pid);
  if (ticks == Ticks::compare) CHECK(a.pid_start_ticks == b.pid_start_ticks);
  CHECK(a.status == b.status);
  CHECK(a.start_time == b.start_time);
  CHECK(a.end_time == b.end_time);
  CHECK(a.exit_code == b.exit_code);
  CHECK(a.signal == b.signal);
  CHECK(a.error == b.error);
  CHECK(a.timeout_ms == b.timeout_ms);
  CHECK(a.auto_cleanup == b.auto_cleanup);
  CHECK(a.restart == b.restart);
  CHECK(a.restarts == b.restarts);
}

ProcessRecord toml_round_trip(const ProcessRecord& r) {
  std::string text = sbx::record_to_toml(r);
  CAPTURE(text);
  auto back = sbx::record_from_toml(text);
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  return *back;
}

ProcessRecord json_round_trip(const ProcessRecord& r) {
  // Through text, as on the wire.
  std::string text = json::serialize(sbx::record_to_json(r));
  CAPTURE(text);
  auto back = sbx::record_from_json(json::parse(text));
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  return *back;
}

}  // namespace

TEST_CASE("status_name / parse_status") {
  CHECK(std::string(sbx::status_name(ProcStatus::starting)) == "starting");
  CHECK(std::string(sbx::status_name(ProcStatus::running)) == "running");
  CHECK(std::string(sbx::status_name(ProcStatus::completed)) == "completed");
  CHECK(std::string(sbx::status_name(ProcStatus::failed)) == "failed");
  CHECK(std::string(sbx::status_name(ProcStatus::killed)) == "killed");
  CHECK(std::string(sbx::status_name(ProcStatus::error)) == "error");
  for (auto s : {ProcStatus::starting, ProcStatus::running, ProcStatus::completed,
                 ProcStatus::failed, ProcStatus::killed, ProcStatus::error}) {
    CHECK(sbx::parse_status(sbx::status_name(s)) == s);
  }
  CHECK_FALSE(sbx::parse_status("").has_value());
  CHECK_FALSE(sbx::parse_status("Running").has_value());
  CHECK_FALSE(sbx::parse_status("done").has_value());
  CHECK_FALSE(sbx::parse_status("running ").has_value());
}

TEST_CASE("is_ended") {
  CHECK_FALSE(sbx::is_ended(ProcStatus::starting));
  CHECK_FALSE(sbx::is_ended(ProcStatus::running));
  CHECK(sbx::is_ended(ProcStatus::completed));
  CHECK(sbx::is_ended(ProcStatus::failed));
  CHECK(sbx::is_ended(ProcStatus::killed));
  CHECK(sbx::is_ended(ProcStatus::error));
  ProcessRecord r;
  r.status = ProcStatus::running;
  CHECK_FALSE(r.ended());
  r.status = ProcStatus::completed;
  CHECK(r.ended());
}

TEST_CASE("wait_exit_code") {
  ProcessRecord r;
  r.id = "x";
  SUBCASE("exit 0") {
    r.status = ProcStatus::completed;
    r.exit_code = 0;
    CHECK(sbx::wait_exit_code(r) == 0);
  }
  SUBCASE("exit 7") {
    r.status = ProcStatus::failed;
    r.exit_code = 7;
    CHECK(sbx::wait_exit_code(r) == 7);
  }
  SUBCASE("SIGTERM is 143") {
    r.status = ProcStatus::killed;
    r.signal = "SIGTERM";
    CHECK(sbx::wait_exit_code(r) == 128 + SIGTERM);
    CHECK(sbx::wait_exit_code(r) == 143);
  }
  SUBCASE("SIGKILL is 137") {
    r.status = ProcStatus::killed;
    r.signal = "SIGKILL";
    CHECK(sbx::wait_exit_code(r) == 137);
  }
  SUBCASE("unnamed signal SIG37 is 165") {
    r.status = ProcStatus::killed;
    r.signal = "SIG37";
    CHECK(sbx::wait_exit_code(r) == 165);
  }
  SUBCASE("ended by sbx on request keeps the real code: a clean exit 0 on SIGTERM is 0") {
    r.status = ProcStatus::killed;
    r.reason = "kill";
    r.exit_code = 0;
    CHECK(sbx::wait_exit_code(r) == 0);
  }
  SUBCASE("could not start is 127") {
    r.status = ProcStatus::error;
    r.error = "no such file";
    CHECK(sbx::wait_exit_code(r) == 127);
  }
}

TEST_CASE("TOML round trip: every optional key set, strings needing escapes") {
  check_same(toml_round_trip(full_record()), full_record());
}

TEST_CASE("TOML round trip: every optional key unset") {
  auto back = toml_round_trip(minimal_record());
  check_same(back, minimal_record());
  CHECK_FALSE(back.pid.has_value());
  CHECK_FALSE(back.pid_start_ticks.has_value());
  CHECK_FALSE(back.start_time.has_value());
  CHECK_FALSE(back.end_time.has_value());
  CHECK_FALSE(back.exit_code.has_value());
  CHECK_FALSE(back.signal.has_value());
  CHECK_FALSE(back.error.has_value());
  CHECK_FALSE(back.timeout_ms.has_value());
  CHECK(back.session == "default");
  CHECK(back.restart == "no");
  CHECK(back.restarts == 0);
  CHECK(back.argv.empty());
  CHECK(back.env.empty());
}

TEST_CASE("TOML: the boot id of a run round-trips; a record without one has none") {
  auto r = full_record();
  r.boot_id = "6d2c2ac1-4ebb-4ac7-8ae4-3853b33a894d";
  CHECK(record_to_toml(r).find("boot_id = \"6d2c2ac1-4ebb-4ac7-8ae4-3853b33a894d\"") !=
        std::string::npos);
  CHECK(toml_round_trip(r).boot_id == r.boot_id);
  CHECK(toml_round_trip(minimal_record()).boot_id.empty());
  CHECK(record_to_toml(minimal_record()).find("boot_id") == std::string::npos);
}

TEST_CASE("TOML round trip: each status, exit code 0, epoch time 0") {
  for (auto s : {ProcStatus::starting, ProcStatus::running, ProcStatus::completed,
                 ProcStatus::failed, ProcStatus::killed, ProcStatus::error}) {
    auto r = minimal_record();
    r.status = s;
    r.exit_code = 0;
    r.start_time = 0;
    r.end_time = 1;
    CAPTURE(std::string(sbx::status_name(s)));
    check_same(toml_round_trip(r), r);
  }
}

TEST_CASE("TOML round trip: awkward strings") {
  for (std::string s :
       {std::string("trailing newline\n"), std::string("a\n\nb"), std::string("ends with quote\""),
        std::string("\"\"\"triple\"\"\""), std::string("back\\"),
        std::string("line end backslash\\\nnext"), std::string("ctrl \x01\x1f\x7f"),
        std::string("cr\ronly"), std::string("'''literal'''"), std::string("#not a comment"),
        std::string("[not.a.table]"), std::string("k = v")}) {
    CAPTURE(s);
    auto r = minimal_record();
    r.command = s;
    r.argv = {s, s};
    r.env["K"] = s;
    r.error = s;
    check_same(toml_round_trip(r), r);
  }
}

TEST_CASE("TOML round trip: a string that starts with a newline") {
  // TOML drops a newline right after the """ that opens a multi-line string.
  auto r = minimal_record();
  r.command = "\nleading newline";
  r.argv = {"\n", "\n\nx"};
  r.env["K"] = "\nv";
  r.error = "\nerr";
  check_same(toml_round_trip(r), r);
}

TEST_CASE("TOML: a record written with the same keys as JSON") {
  std::string text = sbx::record_to_toml(full_record());
  CHECK(text.find("id = \"web-1.a_b\"") != std::string::npos);
  CHECK(text.find("status = \"killed\"") != std::string::npos);
  CHECK(text.find("schema_version = 1") != std::string::npos);
  CHECK(text.find("[env]") != std::string::npos);
}

TEST_CASE("TOML: unknown keys and tables are ignored") {
  std::string text = sbx::record_to_toml(full_record());
  text = "future_key = 42\nanother = \"x\"\n" + text + "\n[future_table]\nnested = [1, 2]\n";
  auto back = sbx::record_from_toml(text);
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  check_same(*back, full_record());
}

TEST_CASE("TOML: hand-written minimal record") {
  auto back = sbx::record_from_toml(
      "id = \"hand\"\nstatus = \"running\"\npid = 42\n"
      "start_time = 2023-11-14T22:13:20.123Z\n"
      "end_time = \"2023-11-15T00:13:20.123+02:00\"\n");
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  CHECK(back->id == "hand");
  CHECK(back->status == ProcStatus::running);
  CHECK(back->pid == 42);
  CHECK(back->start_time == 1700000000123);
  CHECK(back->end_time == 1700000000123);
  CHECK(back->session == "default");
}

TEST_CASE("TOML: missing id or status is an error") {
  auto no_id = sbx::record_from_toml("status = \"running\"\n");
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().code == Errc::failed);
  auto no_status = sbx::record_from_toml("id = \"x\"\n");
  REQUIRE_FALSE(no_status.ok());
  CHECK(no_status.error().code == Errc::failed);
  auto empty = sbx::record_from_toml("");
  CHECK_FALSE(empty.ok());
  auto wrong_type = sbx::record_from_toml("id = 5\nstatus = \"running\"\n");
  CHECK_FALSE(wrong_type.ok());
  auto bad_status = sbx::record_from_toml("id = \"x\"\nstatus = \"zombie\"\n");
  REQUIRE_FALSE(bad_status.ok());
  CHECK(bad_status.error().message.find("zombie") != std::string::npos);
}

TEST_CASE("TOML: corrupt text is an error, not a crash") {
  std::string good = sbx::record_to_toml(full_record());
  for (std::string bad :
       {std::string("id = \"unterminated\nstatus = \"running\"\n"), std::string("id = = \"x\"\n"),
        std::string("[[[\n"), std::string("id = \"x\"\nid = \"y\"\nstatus = \"running\"\n"),
        std::string("\x00\x01\x02garbage", 10), std::string("\xFF\xFE\xFD"),
        good.substr(0, good.size() / 2) + "\"unterminated",
        std::string("id = \"x\"\nstatus = \"running\"\npid = 12abc\n")}) {
    CAPTURE(bad);
    auto r = sbx::record_from_toml(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::failed);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("TOML: every truncation of a record is either an error or a record") {
  std::string good = sbx::record_to_toml(full_record());
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = sbx::record_from_toml(std::string_view(good).substr(0, n));
    if (r.ok()) CHECK(r->id == "web-1.a_b");
  }
}

TEST_CASE("JSON round trip: every optional key set, strings needing escapes") {
  check_same(json_round_trip(full_record()), full_record(), Ticks::skip);
}

TEST_CASE("JSON: a record built in an arena is the same text as one built on the heap") {
  json::monotonic_resource arena;
  json::storage_ptr sp(&arena);
  for (const auto& r : {full_record(), minimal_record()}) {
    auto in_arena = sbx::record_to_json(r, sp);
    CHECK(in_arena.storage().get() == &arena);
    CHECK(json::serialize(in_arena) == json::serialize(sbx::record_to_json(r)));
  }
}

TEST_CASE("JSON round trip: every optional key unset") {
  auto back = json_round_trip(minimal_record());
  check_same(back, minimal_record());
  auto o = sbx::record_to_json(minimal_record());
  for (const char* key : {"pid", "pid_start_ticks", "start_time", "end_time", "exit_code", "signal",
                          "error", "timeout_ms"}) {
    CAPTURE(std::string(key));
    CHECK_FALSE(o.contains(key));
  }
}

TEST_CASE("JSON: keys and value types") {
  auto o = sbx::record_to_json(full_record());
  CHECK(o.at("id").as_string() == "web-1.a_b");
  CHECK(o.at("status").as_string() == "killed");
  CHECK(o.at("start_time").as_string() == "2023-11-14T22:13:20.123Z");
  CHECK(o.at("end_time").as_string() == "2023-11-14T22:14:02.999Z");
  CHECK(o.at("pid").to_number<std::int64_t>() == 123456);
  CHECK(o.at("exit_code").to_number<std::int64_t>() == 7);
  CHECK(o.at("timeout_ms").to_number<std::int64_t>() == 90'000);
  CHECK(o.at("auto_cleanup").as_bool() == true);
  CHECK(o.at("argv").as_array().size() == 5);
  CHECK(o.at("env").as_object().at("MULTI").as_string() == "line1\nline2\r\nline3");
}

TEST_CASE("JSON: unknown keys ignored") {
  auto o = sbx::record_to_json(full_record());
  o["future_key"] = 42;
  o["future_obj"] = json::object{{"a", 1}};
  auto back = sbx::record_from_json(json::value(o));
  REQUIRE(back.ok());
  check_same(*back, full_record(), Ticks::skip);
}

TEST_CASE("JSON: missing id or status, wrong types, non-object") {
  auto no_id = sbx::record_from_json(json::parse(R"({"status":"running"})"));
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().code == Errc::protocol);
  auto no_status = sbx::record_from_json(json::parse(R"({"id":"x"})"));
  REQUIRE_FALSE(no_status.ok());
  CHECK(no_status.error().code == Errc::protocol);
  auto id_number = sbx::record_from_json(json::parse(R"({"id":5,"status":"running"})"));
  CHECK_FALSE(id_number.ok());
  auto bad_status = sbx::record_from_json(json::parse(R"({"id":"x","status":"zombie"})"));
  REQUIRE_FALSE(bad_status.ok());
  CHECK(bad_status.error().code == Errc::protocol);
  for (const char* text : {"[]", "null", "42", "\"x\""}) {
    CAPTURE(std::string(text));
    auto r = sbx::record_from_json(json::parse(text));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::protocol);
  }
}

TEST_CASE("JSON: hand-written record with an offset time") {
  auto back = sbx::record_from_json(json::parse(
      R"({"id":"h","status":"completed","exit_code":0,"start_time":"2023-11-15T00:13:20.123+02:00",)"
      R"("argv":["a",1,"b"],"env":{"K":"v","N":1}})"));
  REQUIRE(back.ok());
  CHECK(back->start_time == 1700000000123);
  CHECK(back->exit_code == 0);
  CHECK(back->argv == std::vector<std::string>{"a", "b"});
  CHECK(back->env == std::map<std::string, std::string>{{"K", "v"}});
  CHECK(sbx::wait_exit_code(*back) == 0);
}

TEST_CASE("JSON: pid_start_ticks is read back as an unsigned count") {
  auto back = sbx::record_from_json(json::parse(
      R"({"id":"t","status":"running","pid":77,"pid_start_ticks":9876543210,"timeout_ms":0})"));
  REQUIRE(back.ok());
  CHECK(back->pid == 77);
  CHECK(back->pid_start_ticks == std::optional<std::uint64_t>(9'876'543'210ULL));
  CHECK(back->timeout_ms == std::optional<std::int64_t>(0));
}

TEST_CASE("TOML and JSON agree") {
  auto via_toml = toml_round_trip(full_record());
  auto via_both = json_round_trip(via_toml);
  check_same(via_both, full_record(), Ticks::skip);
}

namespace {

// Strings that are not UTF-8 (Latin-1, cut sequences) next to text, wherever the user's bytes go.
ProcessRecord bytes_record() {
  auto r = full_record();
  r.command = "printf %s '\xE9t\xE9'";
  r.argv = {"printf",      "%s", "\xE9t\xE9", "caf\xC3\xA9", "\xFF\xFE", "mixed \xC3\xA9\xE9 \\x41",
            "cut \xE2\x82"};
  r.cwd = "/tmp/d\xE9j\xE0";
  r.env = {{"LAT", "\xE0 la"}, {"TEXT", "plain"}};
  r.session = "s\xE9ss";
  r.error = "cannot use working directory /tmp/d\xE9j\xE0: No such file or directory";
  return r;
}

bool all_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

TEST_CASE("TOML round trip: bytes that are not UTF-8, in a pure ASCII file") {
  std::string text = sbx::record_to_toml(bytes_record());
  CAPTURE(text);
  CHECK(all_ascii(text));
  CHECK(text.find("cwd = { base64 = \"L3RtcC9k6Wrg\" }\n") != std::string::npos);
  CHECK(text.find("LAT = { base64 = \"4CBsYQ==\" }\n") != std::string::npos);
  CHECK(text.find("TEXT = \"plain\"\n") != std::string::npos);  // text stays a string
  CHECK(text.find("\n    \"%s\",\n    { base64 = \"6XTp\" },\n    \"caf\\u00E9\",\n") !=
        std::string::npos);
  check_same(toml_round_trip(bytes_record()), bytes_record());
}

TEST_CASE("TOML: a record of text has no tagged form, as before") {
  CHECK(sbx::record_to_toml(full_record()).find("base64") == std::string::npos);
}

TEST_CASE("TOML: hand-written tagged forms; a bad one reads as absent") {
  auto back = sbx::record_from_toml(
      "id = \"h\"\nstatus = \"running\"\ncwd = { base64 = \"L3RtcC9k6Wrg\" }\n"
      "argv = [ \"a\", { base64 = \"6XTp\" }, { base64 = \"not base64\" }, { hex = \"e9\" }, 5 ]\n"
      "command = { base64 = \"6XTp\", extra = 1 }\nsession = { base64 = \"Zg\" }\n"
      "[env]\nA = { base64 = \"4CBsYQ==\" }\nB = \"b\"\nC = { base64 = 1 }\n");
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  CHECK(back->cwd == "/tmp/d\xE9j\xE0");
  CHECK(back->argv == std::vector<std::string>{"a", "\xE9t\xE9"});
  CHECK(back->command.empty());
  CHECK(back->session == "default");
  CHECK(back->env == std::map<std::string, std::string>{{"A", "\xE0 la"}, {"B", "b"}});
}

TEST_CASE("TOML display view: bytes that are not UTF-8 read \\xNN") {
  std::string shown = sbx::record_to_toml(bytes_record(), sbx::TomlView::display);
  CAPTURE(shown);
  CHECK(all_ascii(shown));
  CHECK(shown.find("base64") == std::string::npos);
  CHECK(shown.find("cwd = \"/tmp/d\\xE9j\\xE0\"\n") != std::string::npos);
  CHECK(shown.find("command = \"printf %s '\\xE9t\\xE9'\"\n") != std::string::npos);
  CHECK(shown.find("argv = [ \"printf\", \"%s\", \"\\xE9t\\xE9\", \"caf\\u00E9\", \"\\xFF\\xFE\", "
                   "\"mixed \\u00E9\\xE9 \\\\x41\", \"cut \\xE2\\x82\" ]\n") != std::string::npos);
  CHECK(shown.find("session = \"s\\xE9ss\"\n") != std::string::npos);
  CHECK(shown.find("error = \"cannot use working directory /tmp/d\\xE9j\\xE0: No such") !=
        std::string::npos);
  CHECK(shown.find("\n[env]\nLAT = \"\\xE0 la\"\nTEXT = \"plain\"\n") != std::string::npos);
  // A record of text looks the same in both views.
  CHECK(sbx::record_to_toml(full_record(), sbx::TomlView::display) ==
        sbx::record_to_toml(full_record()));
}

TEST_CASE("JSON round trip: bytes that are not UTF-8 are tagged, text is not") {
  auto o = sbx::record_to_json(bytes_record());
  CHECK(o.at("cwd") == json::value(json::object{{"base64", "L3RtcC9k6Wrg"}}));
  CHECK(o.at("argv").as_array().at(2) == json::value(json::object{{"base64", "6XTp"}}));
  CHECK(o.at("argv").as_array().at(3) == json::value("caf\xC3\xA9"));
  CHECK(o.at("env").as_object().at("LAT") == json::value(json::object{{"base64", "4CBsYQ=="}}));
  CHECK(o.at("env").as_object().at("TEXT") == json::value("plain"));
  CHECK(o.at("session").is_object());
  CHECK(o.at("error").is_object());
  CHECK(o.at("status") == json::value("killed"));
  check_same(json_round_trip(bytes_record()), bytes_record(), Ticks::skip);
  check_same(json_round_trip(toml_round_trip(bytes_record())), bytes_record(), Ticks::skip);
}

TEST_CASE("TOML round trip: log trim counters; collapsed_* stay out of JSON") {
  auto r = minimal_record();
  r.dropped_stdout = 5'000'000'000;
  r.dropped_stderr = 8192;
  r.collapsed_stdout = 4'999'995'904;
  r.collapsed_stderr = 0;
  auto back = toml_round_trip(r);
  CHECK(back.dropped_stdout == r.dropped_stdout);
  CHECK(back.dropped_stderr == r.dropped_stderr);
  CHECK(back.collapsed_stdout == r.collapsed_stdout);
  CHECK(back.collapsed_stderr == 0);
  CHECK(sbx::record_to_toml(r).find("collapsed_stderr") == std::string::npos);  // 0 is left out
  auto o = sbx::record_to_json(r);
  CHECK(o.contains("dropped_stdout"));
  CHECK_FALSE(o.contains("collapsed_stdout"));
  auto old = sbx::record_from_toml("id = \"x\"\nstatus = \"running\"\ndropped_stdout = 10\n");
  REQUIRE(old.ok());
  CHECK(old->collapsed_stdout == 0);  // a record from before the key: nothing collapsed is known
}

TEST_CASE("TOML and JSON round trip: a --tty record keeps its window; others have no tty key") {
  auto r = minimal_record();
  r.tty = true;
  r.tty_size = "120x40";
  auto back = toml_round_trip(r);
  CHECK(back.tty);
  CHECK(back.tty_size == "120x40");
  CHECK(sbx::record_to_toml(r).find("tty = true") != std::string::npos);
  auto o = sbx::record_to_json(r);
  CHECK(o.at("tty") == json::value(true));
  CHECK(o.at("tty_size") == json::value("120x40"));
  auto plain = minimal_record();
  CHECK(sbx::record_to_toml(plain).find("tty") == std::string::npos);
  CHECK_FALSE(sbx::record_to_json(plain).contains("tty"));
  CHECK_FALSE(toml_round_trip(plain).tty);
}

TEST_CASE("TOML round trip: the stragglers' relay of the last run; internal, not in JSON") {
  auto r = minimal_record();
  r.relay_pid = 4242;
  r.relay_start_ticks = 987654321;
  auto back = toml_round_trip(r);
  CHECK(back.relay_pid == 4242);
  CHECK(back.relay_start_ticks == 987654321u);
  CHECK_FALSE(sbx::record_to_json(r).contains("relay_pid"));
  CHECK_FALSE(toml_round_trip(minimal_record()).relay_pid.has_value());
}

using sbx::record_from_json;
using sbx::record_to_json;
using sbx::record_to_toml;

TEST_CASE(
    "TOML and JSON: the definition of a project's process round-trips; old records have none") {
  auto r = full_record();
  r.definition = "3f2a";
  CHECK(toml_round_trip(r).definition == "3f2a");
  CHECK(record_from_json(record_to_json(r))->definition == "3f2a");
  CHECK(record_to_toml(minimal_record()).find("definition") == std::string::npos);
  CHECK(toml_round_trip(minimal_record()).definition.empty());
}

TEST_CASE("record: who it runs as and its cgroup survive the file and JSON") {
  ProcessRecord r = minimal_record();
  r.user = "postgres:postgres";
  r.cgroup = "/sys/fs/cgroup/sbx/run-x";
  auto back = sbx::record_from_toml(sbx::record_to_toml(r));
  REQUIRE(back);
  CHECK(back->user == "postgres:postgres");
  CHECK(back->cgroup == "/sys/fs/cgroup/sbx/run-x");
  auto j = sbx::record_to_json(r);
  CHECK(j.at("user").as_string() == "postgres:postgres");
  CHECK(j.at("cgroup").as_string() == "/sys/fs/cgroup/sbx/run-x");
  auto from_json = sbx::record_from_json(json::value(j));
  REQUIRE(from_json);
  CHECK(from_json->user == "postgres:postgres");
  CHECK(from_json->cgroup == "/sys/fs/cgroup/sbx/run-x");
  auto plain = sbx::record_from_toml(sbx::record_to_toml(minimal_record()));
  REQUIRE(plain);
  CHECK(plain->user.empty());
  CHECK(plain->cgroup.empty());
}

TEST_CASE("JSON text: written as boost::json::serialize writes the same value") {
  // Every byte a string can hold as text: control characters, quote, backslash, DEL, UTF-8.
  std::string odd;
  for (int c = 1; c < 0x80; ++c) odd += static_cast<char>(c);
  odd += "\xc3\xa9 \xe2\x82\xac";
  std::string with_nul("a\0b", 3);
  auto r = full_record();
  r.command = odd;
  r.argv = {odd, with_nul, "\xff\xfe"};  // the last is not UTF-8: the tagged form
  r.env["K"] = odd;
  r.dropped_stdout = 7;
  r.tty = true;
  r.tty_size = "100x30";
  for (const auto& rec : {r, full_record(), minimal_record(), bytes_record()}) {
    std::string text = sbx::record_json_text(rec);
    CAPTURE(text);
    CHECK(json::serialize(json::parse(text)) == text);
    auto back = sbx::record_from_json(json::parse(text));
    REQUIRE(back.ok());
    CHECK(back->argv == rec.argv);
    CHECK(back->command == rec.command);
  }
  std::string s;
  sbx::append_json_string(s, odd + with_nul);
  CHECK(s == json::serialize(json::string(odd + with_nul)));
}
