// The contract of shared/API.md, row by row, against the real binary.
// The rows name only HTTP: the same table can run against any backend
// pair or front end that serves the contract.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <regex>

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

TEST_F(contract, sane_client_request_id_is_echoed_and_insane_one_replaced) {
  EXPECT_EQ(client_.get("/health", {{"x-request-id", "abc-123_X.y"}}).header("x-request-id"), "abc-123_X.y");
  const auto r = client_.get("/health", {{"x-request-id", std::string(129, 'a')}});
  EXPECT_NE(r.header("x-request-id"), std::string(129, 'a'));
  EXPECT_TRUE(std::regex_match(r.header("x-request-id"), std::regex("[0-9a-f-]{36}")));
  const auto other = client_.get("/health", {{"x-request-id", "a b"}});
  EXPECT_NE(other.header("x-request-id"), "a b");
}

TEST_F(contract, wrong_method_lists_allowed_methods) {
  const auto r = client_.send("PUT", "/users/me");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
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
  EXPECT_EQ(u.size(), 5u) << "exactly the contract's fields, never the hash";

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
  EXPECT_EQ(v.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(v.at("user").at("email").as_string(), "ada@example.com");
  EXPECT_FALSE(v.contains("refresh_token"));
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

}  // namespace
}  // namespace gatehouse::testing
