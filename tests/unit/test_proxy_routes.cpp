// The preview proxy's routes (names, hosts, reserved ports) and the expose requests.

#include "doctest.hpp"

#include <boost/json.hpp>

#include "daemon/proxy/routes.hpp"
#include "proto/requests_expose.hpp"

using namespace sbx;
using namespace sbx::daemon;
namespace json = boost::json;

TEST_CASE("name_of_host: the first labels of NAME.localhost, without case, port or dot") {
  CHECK(name_of_host("5173-web.localhost:7780") == "5173-web");
  CHECK(name_of_host("5173-Web.LOCALHOST") == "5173-web");
  CHECK(name_of_host("app.localhost.:80") == "app");
  CHECK(name_of_host("a.b.localhost") == "a.b");
  CHECK(name_of_host(" app ") == "app");
  CHECK_FALSE(name_of_host(""));
  CHECK_FALSE(name_of_host("localhost:7780"));
  CHECK_FALSE(name_of_host("[::1]:7780"));
}

TEST_CASE("routes: (id, port) is one exposure, names are unique, removal by id or port") {
  Routes r;
  REQUIRE(r.add("web", 5173, default_expose_name(5173, "web")));
  REQUIRE(r.add("api", 8000, "API"));
  CHECK(r.all().size() == 2);
  CHECK(r.all()[0].name == "5173-web");  // ordered by name
  CHECK(r.route("api.localhost:7780")->port == 8000);
  CHECK(r.route("5173-web.localhost")->id == "web");
  CHECK_FALSE(r.route("other.localhost"));
  // another's name: a conflict; its own again: a rename
  auto taken = r.add("web", 5174, "api");
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == Errc::conflict);
  REQUIRE(r.add("web", 5173, "front"));
  CHECK(r.all().size() == 2);
  CHECK_FALSE(r.route("5173-web.localhost"));
  CHECK(r.route("front.localhost")->port == 5173);
  REQUIRE(r.add("web", 5174, "second"));
  CHECK(r.remove("web", 5174).size() == 1);
  CHECK(r.has("web"));
  CHECK(r.remove("web").size() == 1);
  CHECK_FALSE(r.has("web"));
  CHECK(r.remove("web").empty());
  CHECK(default_expose_name(3000, "My_App") == "3000-my_app");
}

TEST_CASE("reserved ports: below 1024, above 65535, the proxy's own") {
  CHECK_FALSE(check_expose_port(22, 7780));
  CHECK(check_expose_port(22, 7780).error().code == Errc::usage);
  CHECK_FALSE(check_expose_port(1023, 7780));
  CHECK(check_expose_port(1024, 7780));
  CHECK(check_expose_port(65535, 7780));
  CHECK_FALSE(check_expose_port(65536, 7780));
  CHECK_FALSE(check_expose_port(7780, 7780));
  CHECK(check_expose_port(7780, 0));  // not known yet: checked again once it listens
  CHECK(preview_url("app", 7780) == "http://app.localhost:7780/");
}

TEST_CASE("expose requests: names checked, ports 1-65535, unexpose's port optional") {
  proto::ExposeRequest e{"web", 5173, std::string("app")};
  auto back = proto::ExposeRequest::from_json(e.to_json());
  REQUIRE(back);
  CHECK(back->name == "app");
  CHECK(back->port == 5173);
  CHECK_FALSE(proto::ExposeRequest::from_json(json::object{{"id", "web"}}));
  CHECK_FALSE(proto::ExposeRequest::from_json(json::object{{"id", "web"}, {"port", 70000}}));
  CHECK_FALSE(proto::ExposeRequest::from_json(json::object{{"id", "-x"}, {"port", 5173}}));
  for (const char* bad : {"", "-app", "app-", "a b", "a/b", "x.localhost:1"}) {
    CHECK_FALSE(proto::check_expose_name(bad));
  }
  CHECK(proto::check_expose_name("my-app.v2"));
  CHECK_FALSE(proto::check_expose_name(std::string(64, 'a')));
  auto u = proto::UnexposeRequest::from_json(proto::UnexposeRequest{"web", std::nullopt}.to_json());
  REQUIRE(u);
  CHECK_FALSE(u->port);
  auto info = proto::ExposureInfo::from_json(
      proto::ExposureInfo{"app", "web", 5173, "http://app.localhost:7780/"}.to_json());
  REQUIRE(info);
  CHECK(info->url == "http://app.localhost:7780/");
}
