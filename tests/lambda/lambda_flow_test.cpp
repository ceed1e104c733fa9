// The real gatehouse binary as a Lambda custom runtime, driven by our
// Runtime API emulator through the API.md flow as API Gateway events.
#include "api_gateway_event.hpp"
#include "crypto/crypto.hpp"
#include "lambda_process.hpp"
#include "runtime_emulator.hpp"

#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

namespace gatehouse::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A base64 body from a response document; throws when it is not base64.
std::string unb64(const std::string& text) {
  auto bytes = crypto::base64_decode(text);
  if (!bytes) throw std::runtime_error("not base64");
  return *bytes;
}

// What API Gateway would make of the function's answer.
struct gateway_response {
  int status = 0;
  json::object headers;
  std::string body;  // bytes, base64 already decoded
  bool was_base64 = false;
  json::object doc;

  std::string header(const std::string& name) const {
    const auto* v = headers.if_contains(name);
    return v ? std::string(v->as_string()) : std::string();
  }
  json::value json_body() const { return json::parse(body); }
  std::string error_code() const {
    try {
      return std::string(json_body().at("error").at("code").as_string());
    } catch (const std::exception&) {
      return {};
    }
  }
};

gateway_response to_response(const invocation_result& r) {
  if (r.kind != "response") throw std::runtime_error("invocation failed: " + r.error_type + " " + r.body);
  gateway_response g;
  g.doc = json::parse(r.body).as_object();
  g.status = static_cast<int>(g.doc.at("statusCode").as_int64());
  g.headers = g.doc.at("headers").as_object();
  g.was_base64 = g.doc.at("isBase64Encoded").as_bool();
  const std::string body(g.doc.at("body").as_string());
  g.body = g.was_base64 ? unb64(body) : body;
  return g;
}

std::map<std::string, std::string> lambda_env(const runtime_emulator& emu, const fs::path& data_dir) {
  return {{"AWS_LAMBDA_RUNTIME_API", emu.address()},
          {"DATA_DIR", data_dir.string()},
          {"JWT_PRIVATE_KEY", test_jwt_private_key},
          {"JWT_ISSUER", test_lambda_issuer},
          {"SERVER_SECRET", test_server_secret},
          {"BCRYPT_COST", "4"},
          {"LOG_LEVEL", "info"},
          {"PATH", "/usr/bin:/bin"},
          // Limits off, as in the HTTP suite, unless a test sets them.
          {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "0"},
          {"RATE_LIMIT_LOGIN_PER_EMAIL", "0"},
          {"RATE_LIMIT_LOGINS_PER_IP", "0"},
          {"RATE_LIMIT_LOGIN_PER_IP", "0"},
          {"RATE_LIMIT_SIGNUP_PER_IP", "0"}};
}

class LambdaFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = lambda_env(emu_, data_dir());
    for (const auto& [k, v] : extra_env()) env[k] = v;
    process_ = std::make_unique<lambda_process>(env, dir_.path() / "lambda.log");
  }
  // Variables a derived fixture sets on top of lambda_env.
  virtual std::map<std::string, std::string> extra_env() const { return {}; }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- gatehouse log ---\n" << process_->log_text();
    process_.reset();
  }

  fs::path data_dir() const { return dir_.path() / "data"; }

  gateway_response send(v2_request r) {
    if (r.request_id.empty()) r.request_id = "flow-" + std::to_string(++sequence_);
    const std::string expected_id = r.request_id;
    auto res = to_response(emu_.invoke(to_event(r), 10s));
    EXPECT_EQ(res.header("x-request-id"), expected_id) << r.method << " " << r.path;
    return res;
  }

  gateway_response post_json(const std::string& path, const std::string& body, header_list headers = {}) {
    headers.emplace_back("content-type", "application/json");
    return send({.method = "POST", .path = path, .headers = headers, .body = body});
  }

  gateway_response get(const std::string& path, const std::string& query = {}, header_list headers = {}) {
    return send({.method = "GET", .path = path, .query = query, .headers = headers});
  }

  // Signs up and logs in; returns the bearer token.
  std::string sign_in(const std::string& email) {
    const auto s = post_json("/signup", R"({"name":"Ada","email":")" + email + R"(","password":"correct horse battery"})");
    EXPECT_EQ(s.status, 201) << s.body;
    const auto l = post_json("/login", R"({"email":")" + email + R"(","password":"correct horse battery"})");
    EXPECT_EQ(l.status, 200) << l.body;
    return std::string(l.json_body().at("token").as_string());
  }

  temp_dir dir_;
  runtime_emulator emu_;
  std::unique_ptr<lambda_process> process_;
  int sequence_ = 0;
};

TEST_F(LambdaFlow, SignupLoginUsersAndMeAsPayload2Events) {
  const auto signup = post_json("/signup", R"({"name":" Ada Lovelace ","email":" Ada@Example.COM ","password":"correct horse battery"})");
  ASSERT_EQ(signup.status, 201) << signup.body;
  EXPECT_EQ(signup.header("content-type"), "application/json; charset=utf-8");
  EXPECT_FALSE(signup.was_base64);
  const auto user = signup.json_body().at("user");
  EXPECT_EQ(user.at("email").as_string(), "ada@example.com");
  EXPECT_EQ(user.at("name").as_string(), "Ada Lovelace");
  EXPECT_TRUE(user.at("profile_image").is_null());
  const std::string user_id(user.at("userId").as_string());

  const auto login = post_json("/login", R"({"email":"ada@example.com","password":"correct horse battery"})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.json_body().at("token_type").as_string(), "Bearer");
  EXPECT_EQ(login.json_body().at("user").at("userId").as_string(), user_id);
  const std::string token(login.json_body().at("token").as_string());

  const auto users = get("/users", "limit=10", {{"authorization", "Bearer " + token}});
  ASSERT_EQ(users.status, 200) << users.body;
  const json::value users_body = users.json_body();
  const auto& list = users_body.at("users").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("userId").as_string(), user_id);
  EXPECT_TRUE(users_body.at("next_cursor").is_null());

  const auto me = get("/users/me", {}, {{"authorization", "Bearer " + token}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json_body().at("user").at("userId").as_string(), user_id);
  EXPECT_EQ(me.json_body().at("user").at("email").as_string(), "ada@example.com");

  const auto health = send({.method = "GET", .path = "/health", .request_id = "LV7fzho-PHcEJPw="});
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json_body(), json::parse(R"({"status":"ok"})"));
}

TEST_F(LambdaFlow, RefreshRotatesAndLogoutEndsTheSessionThroughEvents) {
  sign_in("session@example.com");
  const auto login = post_json("/login", R"({"email":"session@example.com","password":"correct horse battery"})");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string first(login.json_body().at("refresh_token").as_string());

  const auto refreshed = post_json("/token/refresh", R"({"refresh_token":")" + first + "\"}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string second(refreshed.json_body().at("refresh_token").as_string());
  EXPECT_NE(second, first);
  const std::string access(refreshed.json_body().at("token").as_string());
  EXPECT_EQ(get("/users/me", {}, {{"authorization", "Bearer " + access}}).status, 200);

  const auto logout = post_json("/logout", R"({"refresh_token":")" + second + "\"}");
  EXPECT_EQ(logout.status, 204);
  EXPECT_TRUE(logout.body.empty());
  const auto after = post_json("/token/refresh", R"({"refresh_token":")" + second + "\"}");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.json_body().at("error").at("code").as_string(), "invalid_refresh_token");
}

TEST_F(LambdaFlow, UploadAsBase64MultipartThenFetchTheImageBytes) {
  const std::string token = sign_in("pic@example.com");
  const std::string png = sample_png();
  const auto upload = send({.method = "POST",
                            .path = "/upload_profile_pic",
                            .headers = multipart_headers(token),
                            .body = multipart_body({{"image", "me.png", "image/png", png}}),
                            .binary = true});
  ASSERT_EQ(upload.status, 200) << upload.body;
  const std::string url(upload.json_body().at("user").at("profile_image").as_string());
  const std::string target = path_of_url(url);
  const auto q = target.find('?');
  ASSERT_NE(q, std::string::npos) << url;
  EXPECT_EQ(target.rfind("/files/profile-images/", 0), 0u) << url;

  const auto image = get(target.substr(0, q), target.substr(q + 1));
  ASSERT_EQ(image.status, 200) << image.body;
  EXPECT_TRUE(image.was_base64) << "image bytes travel base64-encoded";
  EXPECT_EQ(image.header("content-type"), "image/png");
  EXPECT_EQ(image.body, png);

  // Declared PNG, but the bytes are text: refused by sniffing.
  const auto fake = send({.method = "POST",
                          .path = "/upload_profile_pic",
                          .headers = multipart_headers(token),
                          .body = multipart_body({{"image", "x.png", "image/png", "not an image at all"}}),
                          .binary = true});
  EXPECT_EQ(fake.status, 415);
  EXPECT_EQ(fake.error_code(), "unsupported_media_type");
}

TEST_F(LambdaFlow, EveryErrorClassKeepsTheContractShape) {
  const std::string token = sign_in("errors@example.com");

  const auto invalid = post_json("/signup", R"({"name":"X","email":"not-an-email","password":"correct horse battery"})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.error_code(), "validation_failed");
  EXPECT_EQ(invalid.json_body().at("error").at("field").as_string(), "email");

  const auto bad_json = post_json("/login", R"({"email":)");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.error_code(), "invalid_json");

  const auto anonymous = get("/users");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.error_code(), "unauthorized");
  EXPECT_EQ(anonymous.header("www-authenticate").rfind("Bearer", 0), 0u);

  const auto wrong_password = post_json("/login", R"({"email":"errors@example.com","password":"wrong password!"})");
  EXPECT_EQ(wrong_password.status, 401);
  EXPECT_EQ(wrong_password.error_code(), "invalid_credentials");

  const auto missing = get("/no/such/route");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "not_found");

  const auto wrong_method = send({.method = "DELETE", .path = "/signup"});
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.error_code(), "method_not_allowed");
  EXPECT_NE(wrong_method.header("allow").find("POST"), std::string::npos);

  const auto taken = post_json("/signup", R"({"name":"Again","email":"errors@example.com","password":"correct horse battery"})");
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.error_code(), "email_taken");

  const auto too_large = post_json("/signup", R"({"name":")" + std::string(70 * 1024, 'a') + R"("})");
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.error_code(), "payload_too_large");

  const auto wrong_type = send({.method = "POST",
                                .path = "/login",
                                .headers = {{"content-type", "text/plain"}},
                                .body = R"({"email":"errors@example.com","password":"correct horse battery"})"});
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(wrong_type.error_code(), "unsupported_media_type");

  const auto no_file = send({.method = "POST",
                             .path = "/upload_profile_pic",
                             .headers = multipart_headers(token),
                             .body = multipart_body({{"other", "", "", "x"}}),
                             .binary = true});
  EXPECT_EQ(no_file.status, 400);
  EXPECT_EQ(no_file.error_code(), "missing_file");

  // Every error above was JSON in the contract's shape, never base64.
  for (const auto* r : {&invalid, &anonymous, &missing, &wrong_method, &taken, &too_large, &wrong_type}) {
    EXPECT_FALSE(r->was_base64);
    EXPECT_EQ(r->header("content-type"), "application/json; charset=utf-8");
  }
}

// TRUST_PROXY is ignored on Lambda: API Gateway's sourceIp is the client.
class LambdaRateLimit : public LambdaFlow {
 protected:
  std::map<std::string, std::string> extra_env() const override {
    return {{"RATE_LIMIT_LOGIN_PER_IP", "2/1h"}, {"TRUST_PROXY", "true"}};
  }
};

TEST_F(LambdaRateLimit, FailedLoginsAreCountedPerEventSourceIpNotPerForwardedHeader) {
  const auto signup = post_json("/signup", R"({"name":"Ada","email":"ada@example.com","password":"correct horse battery"})");
  ASSERT_EQ(signup.status, 201) << signup.body;
  // The failures must fall in one fixed hour: stay clear of its end.
  if (const auto left = 3600 - std::time(nullptr) % 3600; left < 30)
    std::this_thread::sleep_for(std::chrono::seconds(left + 1));

  const auto login_from = [&](const std::string& ip, const std::string& password, header_list headers = {}) {
    headers.emplace_back("content-type", "application/json");
    return send({.method = "POST",
                 .path = "/login",
                 .headers = headers,
                 .body = R"({"email":"ada@example.com","password":")" + password + R"("})",
                 .source_ip = ip});
  };
  EXPECT_EQ(login_from("203.0.113.1", "wrong password!").status, 401);
  EXPECT_EQ(login_from("203.0.113.1", "wrong password!", {{"x-forwarded-for", "192.0.2.50"}}).status, 401);

  const auto limited = login_from("203.0.113.1", "correct horse battery", {{"x-forwarded-for", "192.0.2.51"}});
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.error_code(), "rate_limited");
  const std::string retry = limited.header("retry-after");
  ASSERT_FALSE(retry.empty());
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 3600);

  // Another sourceIp is counted apart.
  EXPECT_EQ(login_from("203.0.113.2", "wrong password!").status, 401);
  const auto other = login_from("203.0.113.2", "correct horse battery");
  EXPECT_EQ(other.status, 200) << other.body;
}

TEST_F(LambdaFlow, MalformedEventsGetJsonErrorsAndTheProcessLives) {
  for (const std::string& event : {std::string("not json at all"), std::string("[1,2,3]"),
                                  std::string(R"({"version":"2.0","rawPath":"/health"})"),
                                  std::string(R"({"version":"2.0","rawPath":"/health","isBase64Encoded":true,"body":"@@",)"
                                              R"("requestContext":{"requestId":"r","http":{"method":"GET"}}})")}) {
    const std::string id = emu_.enqueue(event);
    const auto result = emu_.wait_result(id, 10s);
    ASSERT_TRUE(result) << event;
    const auto res = to_response(*result);
    EXPECT_EQ(res.status, 400) << event;
    EXPECT_EQ(res.error_code(), "invalid_event") << event;
    EXPECT_EQ(res.header("x-request-id"), id) << "Lambda's own request id when the event has none";
    EXPECT_EQ(res.header("content-type"), "application/json; charset=utf-8");
  }
  EXPECT_TRUE(process_->running());
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(LambdaFlow, InvocationRightAfterAHandlerFailureWorks) {
  const std::string token = sign_in("fail@example.com");
  // The object store's directory becomes a file: the upload handler fails
  // in storage (the closest to a handler failure the real app allows).
  fs::remove_all(data_dir() / "objects");
  std::ofstream(data_dir() / "objects") << "in the way";
  const auto failed = send({.method = "POST",
                            .path = "/upload_profile_pic",
                            .headers = multipart_headers(token),
                            .body = multipart_body({{"image", "me.png", "image/png", sample_png()}}),
                            .binary = true});
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(failed.error_code(), "storage_unavailable");

  const auto me = get("/users/me", {}, {{"authorization", "Bearer " + token}});
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json_body().at("user").at("email").as_string(), "fail@example.com");
  EXPECT_TRUE(process_->running());
}

TEST_F(LambdaFlow, Payload1EventsFromARestApiAreServed) {
  const auto rest_event = [](const std::string& method, const std::string& path, const json::value& headers,
                             const json::value& body, const std::string& id) {
    return json::serialize(json::object{
        {"resource", "/{proxy+}"},
        {"path", path},
        {"httpMethod", method},
        {"headers", headers},
        {"multiValueHeaders", nullptr},
        {"queryStringParameters", nullptr},
        {"multiValueQueryStringParameters", nullptr},
        {"requestContext", json::object{{"requestId", id}, {"stage", "prod"},
                                        {"identity", json::object{{"sourceIp", "192.0.2.44"}}}}},
        {"body", body},
        {"isBase64Encoded", false}});
  };
  const auto signup = to_response(emu_.invoke(
      rest_event("POST", "/signup", json::object{{"Content-Type", "application/json"}},
                 R"({"name":"Rest","email":"rest@example.com","password":"correct horse battery"})",
                 "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
      10s));
  EXPECT_EQ(signup.status, 201) << signup.body;
  EXPECT_EQ(signup.header("x-request-id"), "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
  EXPECT_EQ(signup.json_body().at("user").at("email").as_string(), "rest@example.com");
  EXPECT_FALSE(signup.doc.contains("cookies")) << "payload 1.0 has no cookies field";

  const auto health = to_response(emu_.invoke(rest_event("GET", "/health", nullptr, nullptr, "rest-2"), 10s));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.header("x-request-id"), "rest-2");
}

TEST_F(LambdaFlow, FaultsOnTheRuntimeApiAreRetriedAndTheResponseArrives) {
  emu_.fail_response_posts(1, 500);
  const auto first = get("/health");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(emu_.response_posts(), 2) << "one refused post, one retried";

  emu_.drop_response_posts(1);
  const auto second = get("/health");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(emu_.response_posts(), 4);

  emu_.drop_next_requests(1);
  EXPECT_EQ(get("/health").status, 200);
  EXPECT_TRUE(process_->running());
}

TEST_F(LambdaFlow, ProcessExitsNonZeroWhenTheRuntimeApiGoesAway) {
  EXPECT_EQ(get("/health").status, 200);
  emu_.refuse_all();
  const auto code = process_->wait_exit(5s);
  ASSERT_TRUE(code) << "still running after the Runtime API went away";
  EXPECT_NE(*code, 0);
  EXPECT_LT(*code, 128) << "an orderly exit, not a crash";
}

// Start-up failures, each in a process of its own.
struct init_failure {
  std::optional<init_error_report> report;
  std::optional<int> exit_code;
  std::string log;
};

init_failure start_with(const std::map<std::string, std::string>& overrides) {
  runtime_emulator emu;
  temp_dir dir;
  auto env = lambda_env(emu, dir.path() / "data");
  for (const auto& [k, v] : overrides) env[k] = v;
  lambda_process p(env, dir.path() / "lambda.log");
  init_failure out;
  out.report = emu.wait_init_error(10s);
  out.exit_code = p.wait_exit(10s);
  out.log = p.log_text();
  return out;
}

TEST(LambdaInit, BadConfigurationPostsInitErrorNamingTheVariableAndExits) {
  const auto f = start_with({{"BCRYPT_COST", "99"}});
  ASSERT_TRUE(f.report) << f.log;
  EXPECT_EQ(f.report->error_type, "Runtime.InvalidConfiguration");
  const auto body = json::parse(f.report->body);
  EXPECT_EQ(body.at("errorType").as_string(), "Runtime.InvalidConfiguration");
  EXPECT_NE(std::string(body.at("errorMessage").as_string()).find("BCRYPT_COST"), std::string::npos);
  ASSERT_TRUE(f.exit_code);
  EXPECT_NE(*f.exit_code, 0);
  EXPECT_LT(*f.exit_code, 128);
}

TEST(LambdaInit, SecretIsNamedButNeverEchoed) {
  const std::string weak_secret = "hunter2-is-too-short";
  const auto f = start_with({{"JWT_SECRET", weak_secret}});
  ASSERT_TRUE(f.report) << f.log;
  EXPECT_EQ(f.report->error_type, "Runtime.InvalidConfiguration");
  EXPECT_NE(f.report->body.find("JWT_SECRET"), std::string::npos);
  EXPECT_EQ(f.report->body.find(weak_secret), std::string::npos);
  EXPECT_EQ(f.log.find(weak_secret), std::string::npos);
  ASSERT_TRUE(f.exit_code);
  EXPECT_NE(*f.exit_code, 0);
}

}  // namespace
}  // namespace gatehouse::testing
