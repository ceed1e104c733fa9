#include "http/router.hpp"

#include "http/error_response.hpp"

#include "expect_error.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

using gatehouse::testing::throws_error;

// Each handler answers with its own name, so a test sees which one ran.
handler named(std::string name) {
  return [name](request&) {
    response r;
    r.body = name;
    return r;
  };
}

router make_router() {
  router r;
  r.add("GET", "/health", named("health"), {.max_body = 0, .runs_inline = true});
  r.add("GET", "/users", named("list"));
  r.add("POST", "/users", named("create"));
  r.add("GET", "/users/me", named("me"));
  r.add("GET", "/users/{id}", named("user"));
  r.add("DELETE", "/users/{id}", named("delete"));
  r.add("GET", "/files/{key+}", named("file"));
  r.add("POST", "/upload_profile_pic", named("upload"), {.max_body = 5 * 1024 * 1024});
  r.add("GET", "/", named("root"));
  return r;
}

request make_request(std::string method, std::string path) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

::testing::AssertionResult is_not_found(const router& r, std::string method, std::string path) {
  request req = make_request(std::move(method), std::move(path));
  return throws_error([&] { (void)r.dispatch(req); }, error_kind::not_found, "not_found");
}

TEST(router, dispatches_static_routes_and_records_the_pattern) {
  const router r = make_router();
  request req = make_request("GET", "/health");
  EXPECT_EQ(r.dispatch(req).body, "health");
  EXPECT_EQ(req.route, "/health");
  req = make_request("POST", "/users");
  EXPECT_EQ(r.dispatch(req).body, "create");
  req = make_request("GET", "/");
  EXPECT_EQ(r.dispatch(req).body, "root");
}

TEST(router, the_first_matching_route_wins) {
  const router r = make_router();
  request req = make_request("GET", "/users/me");
  EXPECT_EQ(r.dispatch(req).body, "me");
  EXPECT_TRUE(req.path_params.empty());
}

TEST(router, captures_a_single_segment_parameter) {
  const router r = make_router();
  request req = make_request("GET", "/users/7f0c-abc");
  EXPECT_EQ(r.dispatch(req).body, "user");
  EXPECT_EQ(req.route, "/users/{id}");
  ASSERT_EQ(req.path_params.size(), 1u);
  EXPECT_EQ(req.path_params.at("id"), "7f0c-abc");
  // One segment only.
  EXPECT_TRUE(is_not_found(r, "GET", "/users/a/b"));
}

TEST(router, captures_the_rest_of_the_path) {
  const router r = make_router();
  request req = make_request("GET", "/files/profile-images/u1/abc.png");
  EXPECT_EQ(r.dispatch(req).body, "file");
  EXPECT_EQ(req.path_params.at("key"), "profile-images/u1/abc.png");
  req = make_request("GET", "/files/x");
  EXPECT_EQ(r.dispatch(req).body, "file");
  EXPECT_EQ(req.path_params.at("key"), "x");
  // Empty segments never match a rest parameter.
  EXPECT_TRUE(is_not_found(r, "GET", "/files/"));
  EXPECT_TRUE(is_not_found(r, "GET", "/files"));
  EXPECT_TRUE(is_not_found(r, "GET", "/files/a//b"));
  EXPECT_TRUE(is_not_found(r, "GET", "/files/a/"));
}

TEST(router, params_do_not_leak_between_dispatches) {
  const router r = make_router();
  request req = make_request("GET", "/users/1");
  req.path_params["stale"] = "x";
  (void)r.dispatch(req);
  EXPECT_EQ(req.path_params.size(), 1u);
  EXPECT_EQ(req.path_params.count("stale"), 0u);
}

TEST(router, an_unknown_path_is_404_not_found) {
  const router r = make_router();
  EXPECT_TRUE(is_not_found(r, "GET", "/nope"));
  EXPECT_TRUE(is_not_found(r, "GET", ""));
  EXPECT_TRUE(is_not_found(r, "GET", "health"));
  EXPECT_TRUE(is_not_found(r, "GET", "/HEALTH"));
  EXPECT_TRUE(is_not_found(r, "POST", "/nope"));
}

TEST(router, a_trailing_slash_is_404) {
  const router r = make_router();
  EXPECT_TRUE(is_not_found(r, "GET", "/health/"));
  EXPECT_TRUE(is_not_found(r, "GET", "/users/"));
  EXPECT_TRUE(is_not_found(r, "GET", "/users/me/"));
}

// The allowed methods, from the method_not_allowed error `dispatch` throws
// (error_response turns its headers into the 405's `Allow`), or nullopt.
std::optional<std::string> allow_of_405(const router& r, std::string method, std::string path) {
  request req = make_request(std::move(method), std::move(path));
  try {
    (void)r.dispatch(req);
  } catch (const error& e) {
    if (e.kind() != error_kind::method_not_allowed || e.code() != "method_not_allowed")
      return std::nullopt;
    for (const auto& [name, value] : e.headers())
      if (name == "allow") return value;
  }
  return std::nullopt;
}

TEST(router, a_known_path_with_another_method_is_405_with_allow) {
  const router r = make_router();
  EXPECT_EQ(allow_of_405(r, "DELETE", "/users"), std::optional<std::string>("GET, POST"));
  EXPECT_EQ(allow_of_405(r, "POST", "/users/42"), std::optional<std::string>("GET, DELETE"));
  EXPECT_EQ(allow_of_405(r, "get", "/health"), std::optional<std::string>("GET"));
}

TEST(router, a_405_error_becomes_a_response_with_allow) {
  const router r = make_router();
  request req = make_request("PUT", "/health");
  try {
    (void)r.dispatch(req);
    FAIL() << "dispatch did not throw";
  } catch (const error& e) {
    const response res = error_response(e);
    EXPECT_EQ(res.status, 405);
    EXPECT_EQ(res.header("allow"), std::optional<std::string_view>("GET"));
    EXPECT_EQ(boost::json::parse(res.body).at("error").at("code"), "method_not_allowed");
  }
}

TEST(router, allowed_methods_lists_each_method_once) {
  router r = make_router();
  r.add("GET", "/users/{other}", named("shadowed"));
  EXPECT_EQ(r.allowed_methods("/users/1"), "GET, DELETE");
  EXPECT_EQ(r.allowed_methods("/users/me"), "GET, DELETE");
  EXPECT_EQ(r.allowed_methods("/nope"), "");
}

TEST(router, options_for_returns_the_route_options_or_null) {
  const router r = make_router();
  const route_options* upload = r.options_for("POST", "/upload_profile_pic");
  ASSERT_NE(upload, nullptr);
  EXPECT_EQ(upload->max_body, 5u * 1024 * 1024);
  EXPECT_FALSE(upload->runs_inline);
  const route_options* health = r.options_for("GET", "/health");
  ASSERT_NE(health, nullptr);
  EXPECT_EQ(health->max_body, 0u);
  EXPECT_TRUE(health->runs_inline);
  const route_options* list = r.options_for("GET", "/users");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->max_body, default_json_body_limit);
  EXPECT_EQ(r.options_for("GET", "/upload_profile_pic"), nullptr);  // 405
  EXPECT_EQ(r.options_for("GET", "/nope"), nullptr);                // 404
  EXPECT_EQ(r.options_for("GET", "/health/"), nullptr);
}

TEST(router, rejects_a_pattern_without_a_leading_slash) {
  router r;
  EXPECT_THROW(r.add("GET", "health", named("x")), std::logic_error);
}

}  // namespace
}  // namespace gatehouse::http
