// What an account shows and what its token opens, against the real binary
// on whichever backend GATEHOUSE_TEST_BACKEND names (docs/SECURITY.md,
// issue 12): GET /users shows other users in the public view only; every
// Bearer route refuses the still-valid token of a deleted user; sign-up
// refuses names with invisible or reordering characters and stores NFC;
// and on DynamoDB a login for an unknown e-mail makes the same requests as
// one for a known e-mail.
#include "support/aws_peers.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/operator_commands.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace gatehouse::testing {
namespace {

namespace json = boost::json;

header_list bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }

// One server on a store of this test's own, so the CLI can reach it too.
class accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_store(env_, dir_.path() / "data", "accounts-");
    server_ = std::make_unique<gatehouse_process>(env_);
    c_ = std::make_unique<http_client>(server_->port());
  }

  // `gatehouse users delete <id> --yes` on this test's store, as an operator deletes an account.
  void delete_user(const std::string& user_id) {
    std::string output;
    const int code = run_gatehouse(env_, {"users", "delete", user_id, "--yes"}, output);
    ASSERT_EQ(code, 0) << output;
  }

  http_result sign_up(const std::string& name, const std::string& email) {
    return c_->post_json("/signup", json::serialize(json::object{
                                        {"name", name}, {"email", email}, {"password", "correct horse battery"}}));
  }

  env_map env_;
  temp_dir dir_;
  std::unique_ptr<gatehouse_process> server_;
  std::unique_ptr<http_client> c_;
};

// ---- GET /users: the public view of everyone else ------------------------------

TEST_F(accounts, the_user_list_shows_no_other_users_email_but_the_callers_own_entry_in_full) {
  const auto a = sign_up_and_log_in(*c_, "alice.secret@example.com");
  const auto b = sign_up_and_log_in(*c_, "bob@example.com");
  const auto r = c_->get("/users?limit=100", bearer(b.token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("alice.secret"), std::string::npos) << "A's e-mail leaked to B: " << r.body;

  std::map<std::string, json::object> listed;
  const auto body = parse_json(r.body);
  for (const auto& u : body.at("users").as_array())
    listed.emplace(std::string(u.at("userId").as_string()), u.as_object());
  ASSERT_EQ(listed.size(), 2u) << r.body;
  const auto keys_of = [](const json::object& o) {
    std::set<std::string> keys;
    for (const auto& kv : o) keys.insert(std::string(kv.key()));
    return keys;
  };
  // A, seen by B: exactly the public view.
  EXPECT_EQ(keys_of(listed.at(a.user_id)), (std::set<std::string>{"userId", "name", "profile_image", "createdAt"}));
  EXPECT_EQ(listed.at(a.user_id).at("name").as_string(), "Test User");
  // B's own entry: the full user object, e-mail included.
  EXPECT_EQ(keys_of(listed.at(b.user_id)),
            (std::set<std::string>{"userId", "name", "email", "email_verified", "profile_image", "createdAt"}));
  EXPECT_EQ(listed.at(b.user_id).at("email").as_string(), "bob@example.com");

  // And the other way round: A sees its own e-mail and not B's.
  const auto seen_by_a = c_->get("/users?limit=100", bearer(a.token));
  ASSERT_EQ(seen_by_a.status, 200);
  EXPECT_NE(seen_by_a.body.find("alice.secret@example.com"), std::string::npos);
  EXPECT_EQ(seen_by_a.body.find("bob@example.com"), std::string::npos) << seen_by_a.body;
}

// ---- a deleted user's token ------------------------------------------------------

TEST_F(accounts, every_bearer_route_answers_401_invalid_token_for_a_deleted_users_still_valid_token) {
  const auto victim = sign_up_and_log_in(*c_, "deleted@example.com");
  // Before: the token works on every Bearer route.
  ASSERT_EQ(c_->get("/users/me", bearer(victim.token)).status, 200);
  ASSERT_EQ(c_->get("/users", bearer(victim.token)).status, 200);
  const auto form = c_->post_json("/profile_pic/upload_url", "{}", bearer(victim.token));
  ASSERT_EQ(form.status, 200) << form.body;
  const std::string own_key(parse_json(form.body).at("upload").at("key").as_string());

  delete_user(victim.user_id);

  const std::vector<std::pair<std::string, http_result>> answers{
      {"GET /users", c_->get("/users", bearer(victim.token))},
      {"GET /users/me", c_->get("/users/me", bearer(victim.token))},
      {"POST /upload_profile_pic",
       c_->send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", sample_png()}}),
                multipart_headers(victim.token))},
      {"POST /profile_pic/upload_url", c_->post_json("/profile_pic/upload_url", "{}", bearer(victim.token))},
      {"POST /profile_pic/confirm",
       c_->post_json("/profile_pic/confirm", json::serialize(json::object{{"key", own_key}}), bearer(victim.token))},
      {"PATCH /users/me", c_->send("PATCH", "/users/me", R"({"name":"Ghost"})",
                                   {{"authorization", "Bearer " + victim.token}, {"content-type", "application/json"}})},
      {"DELETE /users/me", c_->send("DELETE", "/users/me", R"({"password":"correct horse battery"})",
                                    {{"authorization", "Bearer " + victim.token}, {"content-type", "application/json"}})},
      {"GET /users/me/export", c_->get("/users/me/export", bearer(victim.token))},
      {"POST /password/change",
       c_->post_json("/password/change", R"({"current_password":"correct horse battery","new_password":"a new password"})",
                     bearer(victim.token))},
      {"POST /email/change",
       c_->post_json("/email/change", R"({"new_email":"ghost@example.com","password":"correct horse battery"})",
                     bearer(victim.token))},
      {"POST /email/verify/request", c_->post_json("/email/verify/request", "{}", bearer(victim.token))},
  };
  for (const auto& [route, r] : answers) {
    EXPECT_EQ(r.status, 401) << route << ": " << r.body;
    EXPECT_EQ(error_code_of(r), "unauthorized") << route << ": " << r.body;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer error=\"invalid_token\"") << route;
  }
}

// An account deleted through the API leaves nothing `gatehouse doctor`
// calls broken: on SQLite its sessions went with its record (they were
// reported as orphans, tokens.user, until --repair).
TEST_F(accounts, an_account_deleted_through_the_api_leaves_a_store_doctor_calls_healthy) {
  const auto me = sign_up_and_log_in(*c_, "doctor-after@example.com");
  ASSERT_EQ(c_->post_json("/login", R"({"email":"doctor-after@example.com","password":"correct horse battery"})").status, 200);
  const auto gone = c_->send("DELETE", "/users/me", R"({"password":"correct horse battery"})",
                             {{"authorization", "Bearer " + me.token}, {"content-type", "application/json"}});
  ASSERT_EQ(gone.status, 204) << gone.body;
  std::string output;
  const int code = run_gatehouse(env_, {"doctor", "--min-age", "0"}, output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output.find("fail"), std::string::npos) << output;
}

// ---- DELETE /users/me and the export ----------------------------------------------

// On the suite's shared store, where count_objects looks on either backend.
class account_removal : public ::testing::Test {
 protected:
  gatehouse_process server_;
  http_client c_{server_.port()};
  http_result delete_me(const std::string& token, const std::string& password) {
    return c_.send("DELETE", "/users/me", json::serialize(json::object{{"password", password}}),
                   {{"authorization", "Bearer " + token}, {"content-type", "application/json"}});
  }
};

TEST_F(account_removal, deleting_ones_account_needs_the_password_and_leaves_nothing_that_opens_anything) {
  const auto me = sign_up_and_log_in(c_, "leaving@example.com");
  const auto other_session = c_.post_json("/login", R"({"email":"leaving@example.com","password":"correct horse battery"})");
  const std::string refresh(parse_json(other_session.body).at("refresh_token").as_string());
  ASSERT_EQ(c_.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", sample_png()}}),
                    multipart_headers(me.token))
                .status,
            200);
  ASSERT_EQ(c_.post_json("/profile_pic/upload_url", "{}", bearer(me.token)).status, 200);  // a pending upload form
  const std::string data = (server_.data_dir() / "data").string();
  ASSERT_EQ(count_objects(data, "profile-images/" + me.user_id + "/"), 1u);
  ASSERT_EQ(c_.post_json("/password/forgot", R"({"email":"leaving@example.com"})").status, 202);

  const auto wrong = delete_me(me.token, "not my password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(error_code_of(wrong), "invalid_credentials");
  EXPECT_EQ(c_.get("/users/me", bearer(me.token)).status, 200) << "a wrong password deletes nothing";

  const auto gone = delete_me(me.token, "correct horse battery");
  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(c_.get("/users/me", bearer(me.token)).status, 401);
  EXPECT_EQ(c_.post_json("/token/refresh", json::serialize(json::object{{"refresh_token", refresh}})).status, 401);
  EXPECT_EQ(c_.post_json("/login", R"({"email":"leaving@example.com","password":"correct horse battery"})").status, 401);
  EXPECT_EQ(count_objects(data, "profile-images/" + me.user_id + "/"), 0u) << "the picture is gone";
  EXPECT_EQ(count_objects(data, "profile-images/uploads/" + me.user_id + "/"), 0u) << "and the pending upload";
  const auto again = c_.post_json("/signup", R"({"name":"New","email":"leaving@example.com","password":"correct horse battery"})");
  EXPECT_EQ(again.status, 201) << "the address is free again: " << again.body;
  EXPECT_EQ(delete_me(me.token, "correct horse battery").status, 401) << "the old token names nobody";
}

TEST_F(account_removal, the_export_is_a_download_of_the_callers_record_and_sessions_and_no_secret) {
  const auto me = sign_up_and_log_in(c_, "export@example.com");
  (void)c_.post_json("/login", R"({"email":"export@example.com","password":"correct horse battery"})");
  const auto r = c_.get("/users/me/export", bearer(me.token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-disposition"), "attachment; filename=\"gatehouse-export.json\"");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  const auto body = parse_json(r.body).as_object();
  EXPECT_EQ(body.at("user").at("email").as_string(), "export@example.com");
  EXPECT_EQ(body.at("user").at("userId").as_string(), me.user_id);
  EXPECT_EQ(body.at("sessions").as_array().size(), 2u);
  EXPECT_EQ(r.body.find("$2b$"), std::string::npos) << "never the password hash";
  EXPECT_EQ(r.body.find(me.token), std::string::npos) << "never a token";
}

// ---- names -----------------------------------------------------------------------

TEST_F(accounts, signup_refuses_names_with_control_format_or_unassigned_characters) {
  using namespace std::string_literals;
  const std::vector<std::pair<std::string, std::string>> names{
      {"U+202E right-to-left override", "Ada\xE2\x80\xAEnmaI"},
      {"U+200B zero width space", "Ad\xE2\x80\x8B" "a"},
      {"U+FEFF zero width no-break space", "\xEF\xBB\xBF" "Ada"},
      {"U+2028 line separator", "Ada\xE2\x80\xA8Lovelace"},
      {"U+0378 unassigned", "Ada\xCD\xB8"},
      {"U+E000 private use", "Ada\xEE\x80\x80"},
      {"U+0007 bell", "Ada\x07"},
  };
  int i = 0;
  for (const auto& [what, name] : names) {
    const auto r = sign_up(name, "badname" + std::to_string(i++) + "@example.com");
    EXPECT_EQ(r.status, 400) << what << ": " << r.body;
    EXPECT_EQ(error_code_of(r), "validation_failed") << what;
    EXPECT_EQ(error_field_of(r), "name") << what;
  }
  // None of them made an account: every e-mail is still free.
  for (int k = 0; k < i; ++k)
    EXPECT_EQ(sign_up("Ada", "badname" + std::to_string(k) + "@example.com").status, 201) << k;
}

TEST_F(accounts, signup_stores_a_decomposed_name_as_nfc_and_counts_characters_after_it) {
  // "Rene" + U+0301 COMBINING ACUTE ACCENT comes back as "Ren" + U+00E9.
  const auto r = sign_up("Rene\xCC\x81", "rene@example.com");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse_json(r.body).at("user").at("name").as_string(), "Ren\xC3\xA9");
  // 100 decomposed accents (200 code points sent) are 100 characters; 101 are too many.
  std::string hundred;
  for (int k = 0; k < 100; ++k) hundred += "e\xCC\x81";
  EXPECT_EQ(sign_up(hundred, "hundred@example.com").status, 201);
  const auto over = sign_up(hundred + "e\xCC\x81", "hundred-one@example.com");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(error_field_of(over), "name");
}

// ---- DynamoDB: the login path costs the same for a known and an unknown e-mail ----

// The proxy's count of forwarded DynamoDB requests, by "<Operation> <TableName>".
std::map<std::string, long> dynamodb_operations() {
  http_client proxy(shared_aws_peers().dynamodb_port());
  const auto r = proxy.get("/__stats");
  if (r.status != 200) throw std::runtime_error("no stats from the DynamoDB proxy: " + r.body);
  std::map<std::string, long> out;
  const auto stats = parse_json(r.body);
  for (const auto& kv : stats.at("operations").as_object())
    out[std::string(kv.key())] = kv.value().to_number<long>();
  return out;
}

std::map<std::string, long> made_during(const std::map<std::string, long>& before,
                                        const std::map<std::string, long>& after) {
  std::map<std::string, long> delta;
  for (const auto& [op, n] : after) {
    const auto it = before.find(op);
    const long d = n - (it == before.end() ? 0 : it->second);
    if (d != 0) delta[op] = d;
  }
  return delta;
}

std::string show(const std::map<std::string, long>& ops) {
  std::string out;
  for (const auto& [op, n] : ops) out += op + " x" + std::to_string(n) + "; ";
  return out;
}

TEST_F(accounts, on_dynamodb_a_login_makes_the_same_requests_for_an_unknown_email_as_for_a_known_one) {
  if (!is_aws()) GTEST_SKIP() << "the DynamoDB user store only";
  ASSERT_EQ(sign_up("Known", "known@example.com").status, 201);
  const auto login = [&](const std::string& email) {
    const auto before = dynamodb_operations();
    const auto r = c_->post_json("/login", json::serialize(json::object{{"email", email}, {"password", "wrong password"}}));
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(error_code_of(r), "invalid_credentials");
    return made_during(before, dynamodb_operations());
  };
  const auto known = login("known@example.com");
  const auto unknown = login("unknown@example.com");
  EXPECT_EQ(known, unknown) << "known: " << show(known) << "\nunknown: " << show(unknown);
  // The two reads themselves: the e-mail claim, then a user.
  const auto times = [&](const std::string& op) { return unknown.count(op) ? unknown.at(op) : 0; };
  EXPECT_EQ(times("GetItem " + env_.at("USERS_TABLE") + "-emails"), 1) << show(unknown);
  EXPECT_EQ(times("GetItem " + env_.at("USERS_TABLE")), 1) << show(unknown);
}

}  // namespace
}  // namespace gatehouse::testing
