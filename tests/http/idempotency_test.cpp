// Idempotency-Key (shared/API.md, Conventions) against the real binary on
// whichever backend GATEHOUSE_TEST_BACKEND names: a retry with the same key
// and body gets the first answer without the work being done again; the
// same key with another request is 422; keys belong to their caller; an
// attempt in progress is 409; answers that are not final are not kept; a
// multipart retry with a fresh boundary is the same request; an attempt
// whose server died is taken over after the lease; kept answers are sealed.
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/operator_commands.hpp"

#include <csignal>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace gatehouse::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

header_list with_key(const std::string& key, header_list more = {}) {
  more.emplace_back("idempotency-key", key);
  return more;
}

header_list bearer_with_key(const std::string& token, const std::string& key) {
  return with_key(key, {{"authorization", "Bearer " + token}});
}

header_list operator+(header_list a, const header_list& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string signup_body(const std::string& email, const std::string& password = "correct horse battery") {
  return json::serialize(json::object{{"name", "Ada"}, {"email", email}, {"password", password}});
}

std::string login_body(const std::string& email, const std::string& password = "correct horse battery") {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

std::size_t files_in(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

class idempotency : public ::testing::Test {
 protected:
  void start(env_map extra = {}) {
    env_ = backend_env();  // on AWS a fresh table, the suite's shared bucket
    env_["DATA_DIR"] = (dir_.path() / "data").string();
    env_["MAIL_TRANSPORT"] = "file:" + outbox().string();
    for (auto& [k, v] : extra) env_[k] = v;
    server_ = std::make_unique<gatehouse_process>(env_);
    c_ = std::make_unique<http_client>(server_->port());
  }
  fs::path outbox() const { return dir_.path() / "outbox"; }

  env_map env_;
  temp_dir dir_;
  std::unique_ptr<gatehouse_process> server_;
  std::unique_ptr<http_client> c_;
};

TEST_F(idempotency, a_retried_signup_gets_the_first_answer_and_makes_no_second_account_or_mail) {
  start();
  const auto first = c_->post_json("/signup", signup_body("ada@example.com"), with_key("signup-1"));
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_FALSE(first.has_header("idempotent-replayed"));
  const auto again = c_->post_json("/signup", signup_body("ada@example.com"), with_key("signup-1"));
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.body, first.body) << "the same user, byte for byte";
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(again.header("content-type"), first.header("content-type"));
  EXPECT_NE(again.header("x-request-id"), first.header("x-request-id")) << "each exchange has its own id";
  EXPECT_EQ(files_in(outbox()), 1u) << "one verification mail: the work was not done twice";
  // Without the key, the same request is a new sign-up, and the e-mail is taken.
  EXPECT_EQ(error_code_of(c_->post_json("/signup", signup_body("ada@example.com"))), "email_taken");
}

TEST_F(idempotency, the_same_key_with_another_request_is_422_and_changes_nothing) {
  start();
  ASSERT_EQ(c_->post_json("/signup", signup_body("first@example.com"), with_key("k")).status, 201);
  const auto other = c_->post_json("/signup", signup_body("second@example.com"), with_key("k"));
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(error_code_of(other), "idempotency_key_reused");
  EXPECT_EQ(c_->post_json("/login", login_body("second@example.com")).status, 401) << "no second account";
  // Another route with the same key is another request too.
  const auto login = c_->post_json("/login", login_body("first@example.com"), with_key("k"));
  EXPECT_EQ(error_code_of(login), "idempotency_key_reused") << login.body;
}

TEST_F(idempotency, keys_belong_to_their_caller) {
  start();
  const auto a = sign_up_and_log_in(*c_, "a@example.com");
  const auto b = sign_up_and_log_in(*c_, "b@example.com");
  const auto rename = [&](const std::string& token, const std::string& name) {  // the same key for both callers
    return c_->send("PATCH", "/users/me", json::serialize(json::object{{"name", name}}),
                    bearer_with_key(token, "rename") + header_list{{"content-type", "application/json"}});
  };
  const auto rename_a = rename(a.token, "Alice");
  ASSERT_EQ(rename_a.status, 200) << rename_a.body;
  const auto rename_b = rename(b.token, "Bob");
  ASSERT_EQ(rename_b.status, 200) << rename_b.body;
  EXPECT_FALSE(rename_b.has_header("idempotent-replayed")) << "B's key is not A's";
  EXPECT_EQ(parse_json(rename_b.body).at("user").at("name").as_string(), "Bob");
  EXPECT_EQ(parse_json(rename_a.body).at("user").at("name").as_string(), "Alice");
}

TEST_F(idempotency, a_retried_login_gets_the_same_session_never_cached) {
  start();
  ASSERT_EQ(c_->post_json("/signup", signup_body("ada@example.com")).status, 201);
  const auto first = c_->post_json("/login", login_body("ada@example.com"), with_key("login-1"));
  ASSERT_EQ(first.status, 200) << first.body;
  const auto again = c_->post_json("/login", login_body("ada@example.com"), with_key("login-1"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  const auto t1 = parse_json(first.body);
  const auto t2 = parse_json(again.body);
  EXPECT_EQ(t2.at("refresh_token"), t1.at("refresh_token")) << "one session, not two";
  EXPECT_EQ(t2.at("token"), t1.at("token"));
  EXPECT_EQ(again.header("cache-control"), "no-store") << "a replayed token is as secret as the first";
  const auto refreshed = c_->post_json(
      "/token/refresh", json::serialize(json::object{{"refresh_token", t2.at("refresh_token")}}));
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
}

// The caller is the user the token was issued to, even once that user is
// gone: a deletion whose answer was lost gets its 204 again, not a 401.
TEST_F(idempotency, a_retried_account_deletion_gets_its_204_again) {
  start();
  const auto u = sign_up_and_log_in(*c_, "leaving@example.com");
  const auto remove = [&](const std::string& key) {
    return c_->send("DELETE", "/users/me", R"({"password":"correct horse battery"})",
                    bearer_with_key(u.token, key) + header_list{{"content-type", "application/json"}});
  };
  ASSERT_EQ(remove("bye").status, 204);
  const auto again = remove("bye");
  EXPECT_EQ(again.status, 204) << again.body;
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(remove("another key").status, 401) << "a new action of a deleted user opens nothing";
  EXPECT_EQ(c_->post_json("/login", login_body("leaving@example.com")).status, 401);
}

TEST_F(idempotency, an_answer_that_is_not_final_is_not_kept_and_the_key_stays_bound_to_its_request) {
  start();
  ASSERT_EQ(c_->post_json("/signup", signup_body("ada@example.com")).status, 201);
  const auto wrong = c_->post_json("/login", login_body("ada@example.com", "not the password"), with_key("l"));
  ASSERT_EQ(wrong.status, 401) << wrong.body;
  const auto wrong_again = c_->post_json("/login", login_body("ada@example.com", "not the password"), with_key("l"));
  EXPECT_EQ(wrong_again.status, 401);
  EXPECT_FALSE(wrong_again.has_header("idempotent-replayed")) << "a 401 runs again";
  EXPECT_EQ(error_code_of(c_->post_json("/login", login_body("ada@example.com"), with_key("l"))),
            "idempotency_key_reused");
}

TEST_F(idempotency, a_malformed_key_is_400_before_anything_happens) {
  start();
  for (const std::string& key : {std::string(256, 'k'), std::string(), std::string("caf\xc3\xa9")}) {
    const auto r = c_->post_json("/signup", signup_body("ada@example.com"), with_key(key));
    EXPECT_EQ(r.status, 400) << key.size() << " " << r.body;
    EXPECT_EQ(error_code_of(r), "invalid_idempotency_key");
  }
  EXPECT_EQ(c_->post_json("/signup", signup_body("ada@example.com"), with_key(std::string(255, 'k'))).status, 201);
  const auto spaced = c_->post_json("/signup", signup_body("bea@example.com"), with_key("a key with spaces ~!"));
  EXPECT_EQ(spaced.status, 201) << spaced.body;
}

TEST_F(idempotency, a_multipart_upload_retried_with_a_fresh_boundary_is_the_same_upload) {
  start();
  const auto u = sign_up_and_log_in(*c_, "pic@example.com");
  const auto body_with = [&](const std::string& boundary) {
    return multipart_body({{"image", "me.png", "image/png", sample_png()}}, boundary);
  };
  auto headers_with = [&](const std::string& boundary) {
    auto h = multipart_headers(u.token, boundary);
    h.emplace_back("idempotency-key", "upload-1");
    return h;
  };
  const auto first = c_->send("POST", "/upload_profile_pic", body_with("boundary-one-1234"), headers_with("boundary-one-1234"));
  ASSERT_EQ(first.status, 200) << first.body;
  const auto again = c_->send("POST", "/upload_profile_pic", body_with("another-boundary-98765"),
                              headers_with("another-boundary-98765"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(count_objects(env_.at("DATA_DIR"), "profile-images/" + u.user_id + "/"), 1u) << "one object stored";
  // Another picture under the same key is another request.
  const auto other = c_->send("POST", "/upload_profile_pic",
                              multipart_body({{"image", "me.gif", "image/gif", sample_gif()}}, "boundary-one-1234"),
                              headers_with("boundary-one-1234"));
  EXPECT_EQ(error_code_of(other), "idempotency_key_reused") << other.body;
}

// Both attempts start at once; bcrypt at cost 12 keeps the winner busy
// long enough that the other finds it running.
TEST_F(idempotency, an_attempt_in_progress_makes_its_retry_wait_and_the_work_happens_once) {
  start({{"BCRYPT_COST", "12"}});
  const auto results = all_at_once(2, server_->port(), [](http_client& c, int) {
    return c.post_json("/signup", signup_body("race@example.com"), with_key("same"));
  });
  int created = 0;
  for (const auto& r : results) {
    if (r.status == 201 && !r.has_header("idempotent-replayed")) {
      ++created;
    } else {
      EXPECT_TRUE((r.status == 409 && error_code_of(r) == "request_in_progress" && r.header("retry-after") == "1") ||
                  (r.status == 201 && r.header("idempotent-replayed") == "true"))
          << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(created, 1);
  const auto later = c_->post_json("/signup", signup_body("race@example.com"), with_key("same"));
  EXPECT_EQ(later.status, 201) << later.body;
  EXPECT_EQ(later.header("idempotent-replayed"), "true");
}

// The embedded store only: a server killed mid-request leaves its record
// running; after IDEMPOTENCY_LEASE a retry takes over and finishes the work.
TEST_F(idempotency, an_attempt_whose_server_died_is_taken_over_after_the_lease) {
  if (current_backend() == backend_kind::aws) GTEST_SKIP() << "the embedded store's variant";
  start({{"BCRYPT_COST", "13"}, {"REQUEST_TIMEOUT_MS", "5000"}, {"IDEMPOTENCY_LEASE", "6s"}});
  std::thread doomed([port = server_->port()] {
    try {
      http_client c(port);
      (void)c.post_json("/signup", signup_body("phoenix@example.com"), with_key("dies"));
    } catch (const std::exception&) {
      // The server died under it: the answer never comes.
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the record is written, bcrypt runs
  server_->stop(SIGKILL);
  doomed.join();

  server_ = std::make_unique<gatehouse_process>(env_);  // the same DATA_DIR
  c_ = std::make_unique<http_client>(server_->port());
  const auto waiting = c_->post_json("/signup", signup_body("phoenix@example.com"), with_key("dies"));
  EXPECT_EQ(waiting.status, 409) << waiting.body;
  EXPECT_EQ(error_code_of(waiting), "request_in_progress");
  std::this_thread::sleep_for(std::chrono::milliseconds(6500));
  const auto resumed = c_->post_json("/signup", signup_body("phoenix@example.com"), with_key("dies"));
  EXPECT_EQ(resumed.status, 201) << resumed.body;
  EXPECT_FALSE(resumed.has_header("idempotent-replayed")) << "it ran";
  EXPECT_EQ(c_->post_json("/login", login_body("phoenix@example.com")).status, 200);
}

// The embedded store only: what SQLite holds opens nothing without the server secret.
TEST_F(idempotency, kept_answers_are_sealed_in_the_store) {
  if (current_backend() == backend_kind::aws) GTEST_SKIP() << "reads the SQLite file";
  start();
  ASSERT_EQ(c_->post_json("/signup", signup_body("sealed@example.com")).status, 201);
  const auto login = c_->post_json("/login", login_body("sealed@example.com"), with_key("the key itself"));
  ASSERT_EQ(login.status, 200);
  const std::string refresh(parse_json(login.body).at("refresh_token").as_string());
  const std::string access(parse_json(login.body).at("token").as_string());
  std::string stored;
  for (const char* name : {"gatehouse.db", "gatehouse.db-wal"}) {
    std::ifstream in(fs::path(env_.at("DATA_DIR")) / name, std::ios::binary);
    stored.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_NE(stored.find("sealed@example.com"), std::string::npos) << "the files were read";
  EXPECT_EQ(stored.find(refresh), std::string::npos) << "the refresh token is in the file";
  EXPECT_EQ(stored.find(access.substr(access.rfind('.') + 1)), std::string::npos) << "the access token is in the file";
  EXPECT_EQ(stored.find("the key itself"), std::string::npos) << "the key is kept only as an HMAC";
  // Still replayed: the record opens with the server's key.
  EXPECT_EQ(c_->post_json("/login", login_body("sealed@example.com"), with_key("the key itself")).body, login.body);
}

}  // namespace
}  // namespace gatehouse::testing
