#include "http/pipeline.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>

namespace gatehouse::http {
namespace {

using namespace std::string_literals;

router make_router() {
  router r;
  r.add("GET", "/health", [](request&) { return json_response(200, {{"status", "ok"}}); });
  r.add("POST", "/health", [](request&) { return empty_response(204); });
  r.add("GET", "/boom", [](request&) -> response {
    throw std::runtime_error("secret detail: connection string postgres://u:p@host");
  });
  r.add("GET", "/weird", [](request&) -> response { throw 42; });
  r.add("GET", "/internal", [](request&) -> response {
    throw error(error_kind::internal, "internal", "invariant broken in table users_v2");
  });
  r.add("GET", "/storage", [](request&) -> response {
    throw error(error_kind::unavailable, "storage_unavailable",
                "dynamodb: ProvisionedThroughputExceededException at 10.0.0.7");
  });
  r.add("GET", "/conflict", [](request&) -> response {
    throw error(error_kind::already_exists, "email_taken", "that email is taken");
  });
  return r;
}

request make_request(std::string method, std::string path,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.headers = std::move(headers);
  return req;
}

std::string error_code_of(const response& res) {
  return std::string(boost::json::parse(res.body).at("error").at("code").as_string());
}
std::string error_message_of(const response& res) {
  return std::string(boost::json::parse(res.body).at("error").at("message").as_string());
}

class pipeline_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::set_min_level(log::level::error); }

  const std::string app = "https://app.example";
  pipeline listed{make_router(), cors_policy{{app, "https://admin.example"}}};
  pipeline open{make_router(), cors_policy{}};
};

TEST_F(pipeline_test, keeps_a_sane_client_request_id) {
  for (const std::string& id : std::vector<std::string>{"abc-123_X.y", "a", std::string(128, 'z')}) {
    request req = make_request("GET", "/health", {{"x-request-id", id}});
    const response res = listed.handle(req);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(req.request_id, id);
    EXPECT_EQ(res.header("x-request-id"), std::optional<std::string_view>(id));
  }
}

TEST_F(pipeline_test, replaces_an_unsafe_client_request_id) {
  for (const std::string& id : std::vector<std::string>{"abc\r\nset-cookie: x=1", "abc\n", std::string(129, 'z'), ""s,
                               "a b", "id\"<script>"}) {
    request req = make_request("GET", "/health", {{"x-request-id", id}});
    const response res = listed.handle(req);
    const auto echoed = res.header("x-request-id");
    ASSERT_TRUE(echoed.has_value());
    EXPECT_NE(*echoed, id);
    EXPECT_TRUE(is_sane_request_id(*echoed)) << *echoed;
    EXPECT_EQ(*echoed, req.request_id);
  }
}

TEST_F(pipeline_test, makes_a_fresh_request_id_per_request) {
  request a = make_request("GET", "/health");
  request b = make_request("GET", "/health");
  const response ra = listed.handle(a);
  const response rb = listed.handle(b);
  EXPECT_TRUE(is_sane_request_id(a.request_id));
  EXPECT_NE(a.request_id, b.request_id);
  EXPECT_EQ(ra.header("x-request-id"), std::optional<std::string_view>(a.request_id));
}

TEST_F(pipeline_test, keeps_a_request_id_the_front_end_set) {
  request req = make_request("GET", "/health", {{"x-request-id", "client-id"}});
  req.request_id = "apigw-req-1";
  const response res = listed.handle(req);
  EXPECT_EQ(res.header("x-request-id"), std::optional<std::string_view>("apigw-req-1"));
}

TEST_F(pipeline_test, an_unexpected_exception_is_500_internal_without_its_text) {
  request req = make_request("GET", "/boom");
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(error_code_of(res), "internal");
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("postgres"), std::string::npos) << res.body;
  EXPECT_TRUE(res.header("x-request-id").has_value());
}

TEST_F(pipeline_test, a_non_standard_exception_is_500_internal) {
  request req = make_request("GET", "/weird");
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(error_code_of(res), "internal");
}

TEST_F(pipeline_test, an_internal_error_is_500_without_its_text) {
  request req = make_request("GET", "/internal");
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(error_code_of(res), "internal");
  EXPECT_EQ(res.body.find("users_v2"), std::string::npos) << res.body;
}

TEST_F(pipeline_test, storage_unavailable_is_503_without_the_backend_text) {
  request req = make_request("GET", "/storage");
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(error_code_of(res), "storage_unavailable");
  EXPECT_EQ(res.body.find("dynamodb"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("10.0.0.7"), std::string::npos) << res.body;
  EXPECT_EQ(res.header("retry-after"), std::optional<std::string_view>("1"));
}

TEST_F(pipeline_test, a_domain_error_keeps_its_status_code_and_message) {
  request req = make_request("GET", "/conflict");
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_code_of(res), "email_taken");
  EXPECT_EQ(error_message_of(res), "that email is taken");
}

TEST_F(pipeline_test, an_unknown_path_is_404_and_a_wrong_method_405) {
  request unknown = make_request("GET", "/nope");
  const response r404 = listed.handle(unknown);
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(error_code_of(r404), "not_found");
  request wrong = make_request("DELETE", "/health");
  const response r405 = listed.handle(wrong);
  EXPECT_EQ(r405.status, 405);
  EXPECT_EQ(error_code_of(r405), "method_not_allowed");
  EXPECT_EQ(r405.header("allow"), std::optional<std::string_view>("GET, POST"));
}

TEST_F(pipeline_test, preflight_on_a_known_path_for_an_allowed_origin_is_204_with_methods) {
  request req = make_request("OPTIONS", "/health",
                             {{"origin", app}, {"access-control-request-method", "POST"}});
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 204);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.header("access-control-allow-methods"),
            std::optional<std::string_view>("GET, POST, OPTIONS"));
  EXPECT_EQ(res.header("access-control-allow-origin"), std::optional<std::string_view>(app));
  EXPECT_TRUE(res.header("access-control-allow-headers").has_value());
}

TEST_F(pipeline_test, preflight_for_a_disallowed_origin_grants_nothing) {
  request req = make_request("OPTIONS", "/health", {{"origin", "https://evil.example"}});
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.header("access-control-allow-methods"), std::nullopt);
  EXPECT_EQ(res.header("access-control-allow-origin"), std::nullopt);
}

TEST_F(pipeline_test, preflight_on_an_unknown_path_is_404) {
  request req = make_request("OPTIONS", "/nope", {{"origin", app}});
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(error_code_of(res), "not_found");
  EXPECT_EQ(res.header("access-control-allow-methods"), std::nullopt);
}

TEST_F(pipeline_test, cors_headers_only_for_a_listed_origin) {
  request allowed = make_request("GET", "/health", {{"origin", app}});
  const response ok = listed.handle(allowed);
  EXPECT_EQ(ok.header("access-control-allow-origin"), std::optional<std::string_view>(app));
  EXPECT_EQ(ok.header("vary"), std::optional<std::string_view>("Origin"));

  for (const std::string origin : {"https://evil.example", "https://app.example.evil.com",
                                   "http://app.example", "null", "*"}) {
    request denied = make_request("GET", "/health", {{"origin", origin}});
    const response res = listed.handle(denied);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("access-control-allow-origin"), std::nullopt) << origin;
  }

  request no_origin = make_request("GET", "/health");
  EXPECT_EQ(listed.handle(no_origin).header("access-control-allow-origin"), std::nullopt);
}

TEST_F(pipeline_test, cors_headers_are_added_to_error_responses_too) {
  request req = make_request("GET", "/boom", {{"origin", app}});
  const response res = listed.handle(req);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.header("access-control-allow-origin"), std::optional<std::string_view>(app));
}

TEST_F(pipeline_test, a_wildcard_policy_answers_star) {
  request req = make_request("GET", "/health", {{"origin", "https://anything.example"}});
  const response res = open.handle(req);
  EXPECT_EQ(res.header("access-control-allow-origin"), std::optional<std::string_view>("*"));
  EXPECT_EQ(res.header("vary"), std::nullopt);
}

TEST(is_sane_request_id, accepts_1_to_128_safe_characters) {
  EXPECT_TRUE(is_sane_request_id("a"));
  EXPECT_TRUE(is_sane_request_id("A-z_0.9"));
  EXPECT_TRUE(is_sane_request_id(std::string(128, 'x')));
  EXPECT_FALSE(is_sane_request_id(""));
  EXPECT_FALSE(is_sane_request_id(std::string(129, 'x')));
  EXPECT_FALSE(is_sane_request_id("a\r\nb"));
  EXPECT_FALSE(is_sane_request_id("a/b"));
  EXPECT_FALSE(is_sane_request_id("caf\xc3\xa9"));
}

// ---- the request's deadline ----

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(pipeline_deadline, answer_by_is_the_budget_after_arrival_or_the_callers_deadline_when_sooner) {
  const pipeline p(make_router(), cors_policy{}, milliseconds(2000));
  const auto arrived = steady::now();
  EXPECT_EQ(p.answer_by(arrived), arrived + milliseconds(2000));
  EXPECT_EQ(p.answer_by(arrived, arrived + milliseconds(500)), arrived + milliseconds(500));
  EXPECT_EQ(p.answer_by(arrived, arrived + milliseconds(9000)), arrived + milliseconds(2000));
  const pipeline defaults(make_router(), cors_policy{});
  EXPECT_EQ(defaults.answer_by(arrived), arrived + default_request_budget);
  EXPECT_LT(default_request_budget, std::chrono::seconds(30));  // API Gateway gives up at 30 s
}

TEST(pipeline_deadline, the_handler_runs_under_the_requests_deadline_and_it_ends_with_the_request) {
  std::optional<steady::time_point> seen;
  router r;
  r.add("GET", "/seen", [&](request&) {
    seen = request_deadline::current();
    return empty_response(204);
  });
  const pipeline p(std::move(r), cors_policy{});
  auto req = make_request("GET", "/seen");
  req.deadline = steady::now() + std::chrono::seconds(60);
  EXPECT_EQ(p.handle(req).status, 204);
  EXPECT_EQ(seen, req.deadline);
  EXPECT_FALSE(request_deadline::current().has_value());

  auto unbounded = make_request("GET", "/seen");
  EXPECT_EQ(p.handle(unbounded).status, 204);
  EXPECT_FALSE(seen.has_value());
}

TEST(pipeline_deadline, a_request_whose_deadline_passed_before_it_ran_is_503_server_busy_unhandled) {
  log::set_min_level(log::level::error);
  int runs = 0;
  router r;
  r.add("POST", "/work", [&](request&) {
    ++runs;
    return empty_response(204);
  });
  const pipeline p(std::move(r), cors_policy{});
  auto req = make_request("POST", "/work");
  req.deadline = steady::now() - milliseconds(1);
  const auto res = p.handle(req);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(error_code_of(res), "server_busy");
  EXPECT_EQ(res.header("retry-after"), "1");
  EXPECT_TRUE(res.header("x-request-id").has_value());
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace gatehouse::http
