// The contract of shared/API.md, row by row, against the real binary.
// The rows name only HTTP: the same table can run against any backend
// pair or front end that serves the contract.
#include "crypto/crypto.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <regex>
#include <set>
#include <thread>

namespace gatehouse::testing {
namespace {

// One server for the whole table: rows do not depend on each other.
class contract : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<gatehouse_process>();
    http_client c(server_->port());
    user_ = sign_up_and_log_in(c, "ada@example.com");
  }
  static void TearDownTestSuite() { server_.reset(); }

  void TearDown() override {
    // No response body may ever carry a password hash.
    for (const auto& body : client_.bodies_seen()) {
      EXPECT_EQ(body.find("$2b$"), std::string::npos) << body;
      EXPECT_EQ(body.find("$2a$"), std::string::npos) << body;
    }
  }

  header_list bearer() const { return {{"authorization", "Bearer " + user_.token}}; }

  static inline std::unique_ptr<gatehouse_process> server_;
  static inline signed_in_user user_;
  http_client client_{server_->port()};
};

struct error_row {
  const char* name;
  const char* method;
  const char* target;
  std::string body;
  const char* content_type;  // nullptr: none
  bool with_token;
  int status;
  const char* code;
  const char* field;  // nullptr: no field expected
};

// Rows print by name in test output, not as a byte dump.
void PrintTo(const error_row& row, std::ostream* os) { *os << row.name; }

class contract_errors : public contract, public ::testing::WithParamInterface<error_row> {};

const std::string long_name(101, 'n');
const std::string long_email = std::string(250, 'a') + "@b.co";
const std::string big_json = R"({"name":")" + std::string(70 * 1024, 'x') + R"(","email":"a@b.co","password":"password1"})";

const error_row error_rows[] = {
    {"unknown_path", "GET", "/nope", "", nullptr, false, 404, "not_found", nullptr},
    {"trailing_slash_is_another_path", "GET", "/health/", "", nullptr, false, 404, "not_found", nullptr},
    {"wrong_method", "DELETE", "/signup", "", nullptr, false, 405, "method_not_allowed", nullptr},
    {"signup_malformed_json", "POST", "/signup", "{\"name\":", "application/json", false, 400, "invalid_json", nullptr},
    {"signup_array_body", "POST", "/signup", "[1,2]", "application/json", false, 400, "invalid_json", nullptr},
    {"signup_invalid_utf8", "POST", "/signup", "{\"name\":\"\xff\xfe\",\"email\":\"a@b.co\",\"password\":\"password1\"}", "application/json", false, 400, "invalid_json", nullptr},
    {"signup_wrong_content_type", "POST", "/signup", "name=a", "application/x-www-form-urlencoded", false, 415, "unsupported_media_type", nullptr},
    {"signup_no_content_type", "POST", "/signup", "{}", nullptr, false, 415, "unsupported_media_type", nullptr},
    {"signup_body_over_64k", "POST", "/signup", big_json, "application/json", false, 413, "payload_too_large", nullptr},
    {"signup_missing_name", "POST", "/signup", R"({"email":"a@b.co","password":"password1"})", "application/json", false, 400, "validation_failed", "name"},
    {"signup_blank_name", "POST", "/signup", R"({"name":"   ","email":"a@b.co","password":"password1"})", "application/json", false, 400, "validation_failed", "name"},
    {"signup_name_101_chars", "POST", "/signup", R"({"name":")" + long_name + R"(","email":"a@b.co","password":"password1"})", "application/json", false, 400, "validation_failed", "name"},
    {"signup_name_control_char", "POST", "/signup", R"({"name":"a\u0007b","email":"a@b.co","password":"password1"})", "application/json", false, 400, "validation_failed", "name"},
    {"signup_name_not_string", "POST", "/signup", R"({"name":42,"email":"a@b.co","password":"password1"})", "application/json", false, 400, "validation_failed", "name"},
    {"signup_email_without_at", "POST", "/signup", R"({"name":"A","email":"ab.co","password":"password1"})", "application/json", false, 400, "validation_failed", "email"},
    {"signup_email_without_dot", "POST", "/signup", R"({"name":"A","email":"a@localhost","password":"password1"})", "application/json", false, 400, "validation_failed", "email"},
    {"signup_email_with_space", "POST", "/signup", R"({"name":"A","email":"a b@c.co","password":"password1"})", "application/json", false, 400, "validation_failed", "email"},
    {"signup_email_over_254", "POST", "/signup", R"({"name":"A","email":")" + long_email + R"(","password":"password1"})", "application/json", false, 400, "validation_failed", "email"},
    {"signup_password_7_bytes", "POST", "/signup", R"({"name":"A","email":"p7@b.co","password":"1234567"})", "application/json", false, 400, "validation_failed", "password"},
    {"signup_password_73_bytes", "POST", "/signup", R"({"name":"A","email":"p73@b.co","password":")" + std::string(73, 'p') + "\"}", "application/json", false, 400, "validation_failed", "password"},
    {"signup_password_nul", "POST", "/signup", R"({"name":"A","email":"pn@b.co","password":"abcd\u0000efgh"})", "application/json", false, 400, "validation_failed", "password"},
    {"login_missing_password", "POST", "/login", R"({"email":"ada@example.com"})", "application/json", false, 400, "validation_failed", "password"},
    {"login_wrong_password", "POST", "/login", R"({"email":"ada@example.com","password":"wrong password"})", "application/json", false, 401, "invalid_credentials", nullptr},
    {"login_unknown_email", "POST", "/login", R"({"email":"nobody@example.com","password":"wrong password"})", "application/json", false, 401, "invalid_credentials", nullptr},
    {"login_malformed_email", "POST", "/login", R"({"email":"not-an-email","password":"wrong password"})", "application/json", false, 401, "invalid_credentials", nullptr},
    {"refresh_malformed_json", "POST", "/token/refresh", "{\"refresh_token\":", "application/json", false, 400, "invalid_json", nullptr},
    {"refresh_missing_token", "POST", "/token/refresh", "{}", "application/json", false, 400, "validation_failed", "refresh_token"},
    {"refresh_token_not_a_string", "POST", "/token/refresh", R"({"refresh_token":42})", "application/json", false, 400, "validation_failed", "refresh_token"},
    {"refresh_wrong_content_type", "POST", "/token/refresh", "refresh_token=x", "application/x-www-form-urlencoded", false, 415, "unsupported_media_type", nullptr},
    {"refresh_wrong_method", "GET", "/token/refresh", "", nullptr, false, 405, "method_not_allowed", nullptr},
    {"refresh_unknown_token", "POST", "/token/refresh", R"({"refresh_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})", "application/json", false, 401, "invalid_refresh_token", nullptr},
    {"refresh_malformed_token", "POST", "/token/refresh", R"({"refresh_token":"not a token"})", "application/json", false, 401, "invalid_refresh_token", nullptr},
    {"refresh_access_token_instead", "POST", "/token/refresh", R"({"refresh_token":"eyJhbGciOiJIUzI1NiJ9.e30.x"})", "application/json", false, 401, "invalid_refresh_token", nullptr},
    {"logout_malformed_json", "POST", "/logout", "{", "application/json", false, 400, "invalid_json", nullptr},
    {"logout_missing_token", "POST", "/logout", R"({"token":"x"})", "application/json", true, 400, "validation_failed", "refresh_token"},
    {"logout_wrong_content_type", "POST", "/logout", "", nullptr, false, 415, "unsupported_media_type", nullptr},
    {"users_without_token", "GET", "/users", "", nullptr, false, 401, "unauthorized", nullptr},
    {"me_without_token", "GET", "/users/me", "", nullptr, false, 401, "unauthorized", nullptr},
    {"users_limit_zero", "GET", "/users?limit=0", "", nullptr, true, 400, "validation_failed", "limit"},
    {"users_limit_101", "GET", "/users?limit=101", "", nullptr, true, 400, "validation_failed", "limit"},
    {"users_limit_not_a_number", "GET", "/users?limit=ten", "", nullptr, true, 400, "validation_failed", "limit"},
    {"users_limit_negative", "GET", "/users?limit=-1", "", nullptr, true, 400, "validation_failed", "limit"},
    {"users_cursor_garbage", "GET", "/users?cursor=!!!", "", nullptr, true, 400, "validation_failed", "cursor"},
    {"users_cursor_empty", "GET", "/users?cursor=", "", nullptr, true, 400, "validation_failed", "cursor"},
    {"upload_without_token", "POST", "/upload_profile_pic", "x", "multipart/form-data; boundary=b", false, 401, "unauthorized", nullptr},
    {"upload_not_multipart", "POST", "/upload_profile_pic", "{}", "application/json", true, 415, "unsupported_media_type", nullptr},
    {"upload_boundary_never_ends", "POST", "/upload_profile_pic", "--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc", "multipart/form-data; boundary=b", true, 400, "invalid_multipart", nullptr},
};

TEST_P(contract_errors, answers_with_status_and_error_code) {
  const error_row& row = GetParam();
  header_list headers;
  if (row.content_type) headers.emplace_back("content-type", row.content_type);
  if (row.with_token) headers.emplace_back("authorization", "Bearer " + user_.token);
  const auto r = client_.send(row.method, row.target, row.body, headers);
  EXPECT_EQ(r.status, row.status) << r.body;
  EXPECT_EQ(error_code_of(r), row.code) << r.body;
  EXPECT_EQ(error_field_of(r), row.field ? row.field : "") << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_FALSE(r.header("x-request-id").empty());
}

INSTANTIATE_TEST_SUITE_P(rows, contract_errors, ::testing::ValuesIn(error_rows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(contract, health_is_ok_without_auth) {
  const auto r = client_.get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
}

// The keys other services verify tokens with, found from the issuer alone;
// the independent verifiers (jose, API Gateway's rules) are tests/tokens.
TEST_F(contract, discovery_names_the_jwks_whose_key_signed_the_login_token) {
  const auto discovery = client_.get("/.well-known/openid-configuration");
  ASSERT_EQ(discovery.status, 200) << discovery.body;
  EXPECT_EQ(discovery.header("cache-control"), "public, max-age=3600");
  const auto config = boost::json::parse(discovery.body);
  const std::string issuer(config.at("issuer").as_string());
  EXPECT_EQ(config.at("jwks_uri").as_string(), issuer + "/.well-known/jwks.json");
  EXPECT_EQ(config.at("id_token_signing_alg_values_supported"), boost::json::parse(R"(["RS256"])"));

  const auto jwks = client_.get("/.well-known/jwks.json");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_EQ(jwks.header("cache-control"), "public, max-age=300");
  const auto keys = boost::json::parse(jwks.body).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  const std::string token = sign_up_and_log_in(client_, "keys@example.com").token;
  const auto header = boost::json::parse(*crypto::base64url_decode(token.substr(0, token.find('.'))));
  EXPECT_EQ(header.at("kid"), keys[0].at("kid"));
  const auto claims = boost::json::parse(*crypto::base64url_decode(
      token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1)));
  EXPECT_EQ(claims.at("iss").as_string(), issuer);

  // Revalidation: the same ETag is 304 without a body; another is the document.
  const std::string etag = jwks.header("etag");
  const auto again = client_.get("/.well-known/jwks.json", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(client_.get("/.well-known/jwks.json", {{"if-none-match", "\"0000\""}}).status, 200);
  const std::string discovery_etag = discovery.header("etag");
  EXPECT_EQ(client_.get("/.well-known/openid-configuration", {{"if-none-match", discovery_etag}}).status, 304);
}

TEST_F(contract, sane_client_request_id_is_echoed_and_insane_one_replaced) {
  EXPECT_EQ(client_.get("/health", {{"x-request-id", "abc-123_X.y"}}).header("x-request-id"), "abc-123_X.y");
  const auto r = client_.get("/health", {{"x-request-id", std::string(129, 'a')}});
  EXPECT_NE(r.header("x-request-id"), std::string(129, 'a'));
  EXPECT_TRUE(std::regex_match(r.header("x-request-id"), std::regex("[0-9a-f-]{36}")));
  const auto other = client_.get("/health", {{"x-request-id", "a b"}});
  EXPECT_NE(other.header("x-request-id"), "a b");
}

TEST_F(contract, wrong_method_lists_allowed_methods) {
  const auto r = client_.send("PUT", "/users");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
  const auto me = client_.send("PUT", "/users/me");
  EXPECT_EQ(me.status, 405);
  EXPECT_EQ(me.header("allow"), "GET, PATCH, DELETE");
}

TEST_F(contract, signup_returns_the_user_with_normalised_email) {
  const auto r = client_.post_json("/signup", R"({"name":"  Grace Hopper ","email":"  Grace@Example.COM ","password":"password123"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto u = parse_json(r.body).at("user").as_object();
  EXPECT_EQ(u.at("name").as_string(), "Grace Hopper");
  EXPECT_EQ(u.at("email").as_string(), "grace@example.com");
  EXPECT_TRUE(u.at("profile_image").is_null());
  EXPECT_TRUE(std::regex_match(std::string(u.at("userId").as_string()),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_TRUE(std::regex_match(std::string(u.at("createdAt").as_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_FALSE(u.at("email_verified").as_bool());
  EXPECT_EQ(u.size(), 6u) << "exactly the contract's fields, never the hash";

  const auto again = client_.post_json("/signup", R"({"name":"G","email":"GRACE@example.com","password":"password123"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(error_code_of(again), "email_taken");
}

TEST_F(contract, signup_accepts_72_byte_password_and_unicode_name) {
  const auto r = client_.post_json("/signup", R"({"name":"Ada Lovelace \u00e9\ud83d\ude00","email":"p72@example.com","password":")" +
                                                  std::string(72, 'p') + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto l = client_.post_json("/login", R"({"email":"p72@example.com","password":")" + std::string(72, 'p') + "\"}");
  EXPECT_EQ(l.status, 200);
}

TEST_F(contract, login_returns_a_bearer_token_that_opens_protected_routes) {
  const auto r = client_.post_json("/login", R"({"email":" ADA@example.com","password":"correct horse battery"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto v = parse_json(r.body).as_object();
  EXPECT_EQ(v.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(v.at("expires_in").as_int64(), 900);
  EXPECT_EQ(v.at("user").at("email").as_string(), "ada@example.com");
  EXPECT_TRUE(std::regex_match(std::string(v.at("refresh_token").as_string()), std::regex("[A-Za-z0-9_-]{43}")))
      << r.body;
  EXPECT_EQ(v.size(), 5u) << "token, token_type, expires_in, refresh_token, user";
  const std::string token(v.at("token").as_string());
  const auto me = client_.get("/users/me", {{"authorization", "Bearer " + token}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(parse_json(me.body).at("user").at("userId").as_string(), user_.user_id);
}

TEST_F(contract, failed_logins_look_identical_for_unknown_email_and_wrong_password) {
  const auto unknown = client_.post_json("/login", R"({"email":"ghost@example.com","password":"whatever123"})");
  const auto wrong = client_.post_json("/login", R"({"email":"ada@example.com","password":"whatever123"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
}

TEST_F(contract, bad_tokens_get_invalid_token_challenge) {
  const auto none = client_.get("/users");
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  for (const std::string& token : {std::string("garbage"), user_.token + "x", user_.token.substr(0, user_.token.size() - 2)}) {
    const auto r = client_.get("/users", {{"authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(error_code_of(r), "unauthorized");
    EXPECT_EQ(r.header("www-authenticate"), "Bearer error=\"invalid_token\"");
  }
  const auto basic = client_.get("/users", {{"authorization", "Basic YTpi"}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(basic.header("www-authenticate"), "Bearer");
}

TEST_F(contract, cors_preflight_is_answered) {
  const auto r = client_.send("OPTIONS", "/users", "", {{"origin", "https://app.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_NE(r.header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_NE(r.header("access-control-allow-headers").find("authorization"), std::string::npos);
  const auto plain = client_.get("/health", {{"origin", "https://app.example"}});
  EXPECT_EQ(plain.header("access-control-allow-origin"), "*");
}

TEST_F(contract, paging_with_limit_2_yields_every_user_exactly_once) {
  http_client c(server_->port());
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(c.post_json("/signup", R"({"name":"P","email":"page)" + std::to_string(i) + R"(@example.com","password":"password123"})").status, 201);
  }
  std::map<std::string, int> seen;
  std::string cursor;
  int pages = 0;
  do {
    const auto r = client_.get("/users?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), bearer());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = parse_json(r.body).as_object();
    const auto& users = v.at("users").as_array();
    EXPECT_LE(users.size(), 2u);
    for (const auto& u : users) ++seen[std::string(u.at("userId").as_string())];
    cursor = v.at("next_cursor").is_null() ? "" : std::string(v.at("next_cursor").as_string());
    ASSERT_LT(++pages, 1000);
  } while (!cursor.empty());
  const auto all = client_.get("/users?limit=100", bearer());
  const auto all_json = parse_json(all.body);
  const auto& everyone = all_json.at("users").as_array();
  EXPECT_EQ(seen.size(), everyone.size());
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id;
  EXPECT_GE(seen.size(), 8u);
}

TEST_F(contract, default_page_is_25_users) {
  http_client c(server_->port());
  for (int i = 0; i < 26; ++i)
    ASSERT_EQ(c.post_json("/signup", R"({"name":"D","email":"default)" + std::to_string(i) + R"(@example.com","password":"password123"})").status, 201);
  const auto r = client_.get("/users", bearer());
  const auto v = parse_json(r.body).as_object();
  EXPECT_EQ(v.at("users").as_array().size(), 25u);
  EXPECT_TRUE(v.at("next_cursor").is_string());
}

// ---- refresh tokens and logout --------------------------------------------

std::string refresh_body(const std::string& token) { return R"({"refresh_token":")" + token + "\"}"; }

std::string refresh_token_of(const http_result& r) {
  return std::string(parse_json(r.body).at("refresh_token").as_string());
}

std::string access_token_of(const http_result& r) { return std::string(parse_json(r.body).at("token").as_string()); }

http_result log_in(http_client& c, const std::string& email, const std::string& password = "correct horse battery") {
  return c.post_json("/login", R"({"email":")" + email + R"(","password":")" + password + "\"}");
}

TEST_F(contract, refresh_rotates_the_token_and_answers_like_login) {
  const auto login = log_in(client_, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string first = refresh_token_of(login);

  const auto r = client_.post_json("/token/refresh", refresh_body(first));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto v = parse_json(r.body).as_object();
  EXPECT_EQ(v.size(), 5u) << r.body;
  EXPECT_EQ(v.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(v.at("expires_in").as_int64(), 900);
  EXPECT_EQ(v.at("user").at("userId").as_string(), user_.user_id);
  EXPECT_EQ(v.at("user").at("email").as_string(), "ada@example.com");
  const std::string second = refresh_token_of(r);
  EXPECT_TRUE(std::regex_match(second, std::regex("[A-Za-z0-9_-]{43}"))) << second;
  EXPECT_NE(second, first);

  // The new access token opens protected routes.
  const auto me = client_.get("/users/me", {{"authorization", "Bearer " + access_token_of(r)}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(parse_json(me.body).at("user").at("userId").as_string(), user_.user_id);

  // Presented again at once (a second tab): the same successor, not a new one.
  const auto again = client_.post_json("/token/refresh", refresh_body(first));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(refresh_token_of(again), second);

  // The successor rotates in its turn.
  const auto third = client_.post_json("/token/refresh", refresh_body(second));
  ASSERT_EQ(third.status, 200) << third.body;
  EXPECT_NE(refresh_token_of(third), second);
  EXPECT_NE(refresh_token_of(third), first);
}

TEST_F(contract, eight_concurrent_refreshes_of_one_token_all_get_the_same_successor) {
  const auto login = log_in(client_, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token = refresh_token_of(login);

  constexpr int threads = 8;
  std::vector<http_result> results(threads);
  std::latch go(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      http_client c(server_->port());
      go.arrive_and_wait();
      try {
        results[static_cast<std::size_t>(i)] = c.post_json("/token/refresh", refresh_body(token));
      } catch (const std::exception& e) {
        results[static_cast<std::size_t>(i)].body = std::string("client error: ") + e.what();
      }
    });
  }
  for (auto& t : pool) t.join();

  std::set<std::string> successors;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    successors.insert(refresh_token_of(r));
  }
  ASSERT_EQ(successors.size(), 1u) << "one successor for every tab";
  const auto next = client_.post_json("/token/refresh", refresh_body(*successors.begin()));
  EXPECT_EQ(next.status, 200) << next.body;
}

TEST_F(contract, logout_ends_the_session_and_answers_204_whatever_the_token) {
  const auto login = log_in(client_, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string first = refresh_token_of(login);
  const auto rotated = client_.post_json("/token/refresh", refresh_body(first));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string second = refresh_token_of(rotated);

  // No Bearer token needed: the refresh token is the proof.
  const auto out = client_.post_json("/logout", refresh_body(second));
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(out.body, "");
  for (const auto& t : {second, first}) {
    const auto r = client_.post_json("/token/refresh", refresh_body(t));
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(error_code_of(r), "invalid_refresh_token");
  }

  // Again, unknown, malformed, or with a Bearer token: the same 204.
  EXPECT_EQ(client_.post_json("/logout", refresh_body(second)).status, 204);
  EXPECT_EQ(client_.post_json("/logout", refresh_body(std::string(43, 'A'))).status, 204);
  EXPECT_EQ(client_.post_json("/logout", refresh_body("garbage")).status, 204);
  EXPECT_EQ(client_.post_json("/logout", refresh_body(std::string(43, 'B')), bearer()).status, 204);

  // Other sessions of the same user go on.
  const auto other = log_in(client_, "ada@example.com");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(client_.post_json("/token/refresh", refresh_body(refresh_token_of(other))).status, 200);
}

// Reuse detection needs the grace window out of the way: a server of its own
// with REFRESH_REUSE_GRACE=0, on whichever backend the suite runs.
TEST(contract_reuse, a_rotated_token_presented_again_revokes_the_whole_family) {
  gatehouse_process server(std::map<std::string, std::string>{{"REFRESH_REUSE_GRACE", "0"}});
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "reuse@example.com");
  const auto login = log_in(c, user.email);
  const auto other = log_in(c, user.email);
  ASSERT_EQ(login.status, 200) << login.body;
  ASSERT_EQ(other.status, 200) << other.body;
  const std::string first = refresh_token_of(login);

  const auto rotated = c.post_json("/token/refresh", refresh_body(first));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string second = refresh_token_of(rotated);

  const auto reuse = c.post_json("/token/refresh", refresh_body(first));
  EXPECT_EQ(reuse.status, 401) << reuse.body;
  EXPECT_EQ(error_code_of(reuse), "invalid_refresh_token");
  // The successor was never used, and is dead all the same.
  const auto after = c.post_json("/token/refresh", refresh_body(second));
  EXPECT_EQ(after.status, 401) << after.body;
  EXPECT_EQ(error_code_of(after), "invalid_refresh_token");
  EXPECT_NE(server.log_text().find("refresh token family revoked"), std::string::npos);

  // Another login's family is untouched.
  EXPECT_EQ(c.post_json("/token/refresh", refresh_body(refresh_token_of(other))).status, 200);
}

}  // namespace
}  // namespace gatehouse::testing
