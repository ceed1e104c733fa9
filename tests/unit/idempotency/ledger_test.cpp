// The idempotency ledger's rules over the real SQLite store in a fresh
// directory per test, with the clock in the test's hand: first attempt,
// replay, another request under the key, a running attempt, a lapsed lease
// taken over, a record opened by a failed attempt, expiry (a new action
// with new ids), what is not kept, and a kept answer altered in the store.
#include "idempotency/ledger.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_idempotency_store.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

namespace gatehouse::idempotency {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t t0 = 1'800'000'000;

class ledger_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-ledger-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = sqlite::database::open(dir_ / "gatehouse.db");
    store_ = std::make_unique<sqlite::sqlite_idempotency_store>(db_);
    ledger_ = std::make_unique<ledger>(*store_, std::string(32, 'r'), std::string(32, 'a'), [this] { return now_; },
                                       ledger_settings{.retention_seconds = 86400, .lease_seconds = 30,
                                                       .max_answer_bytes = 1024});
  }
  void TearDown() override {
    ledger_.reset();
    store_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  begin_result begin(std::string_view key, std::string_view body = R"({"email":"ada@example.com"})",
                     std::string_view scope = "public") {
    return ledger_->begin({scope, key, "POST", "/signup", body});
  }

  static answer created() { return {201, {{"content-type", "application/json"}}, R"({"user":{"userId":"u1"}})"}; }

  fs::path dir_;
  std::shared_ptr<sqlite::database> db_;
  std::unique_ptr<sqlite::sqlite_idempotency_store> store_;
  std::unique_ptr<ledger> ledger_;
  std::int64_t now_ = t0;
};

TEST_F(ledger_test, keys_are_1_to_255_printable_ascii_characters) {
  EXPECT_TRUE(is_valid_key("a"));
  EXPECT_TRUE(is_valid_key(std::string(255, '~')));
  EXPECT_TRUE(is_valid_key("550e8400-e29b-41d4-a716-446655440000"));
  EXPECT_TRUE(is_valid_key(" spaces are printable "));
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key(std::string(256, 'k')));
  EXPECT_FALSE(is_valid_key("tab\there"));
  EXPECT_FALSE(is_valid_key("caf\xc3\xa9"));
  EXPECT_FALSE(is_valid_key(std::string("nul\0", 4)));
}

TEST_F(ledger_test, the_first_attempt_runs_and_its_final_answer_is_given_again) {
  const auto first = begin("k");
  ASSERT_TRUE(std::holds_alternative<attempt>(first));
  const auto& run = std::get<attempt>(first);
  EXPECT_FALSE(run.may_have_run_before);
  ledger_->finish(run, created());

  now_ += 3600;
  const auto again = begin("k");
  ASSERT_TRUE(std::holds_alternative<answer>(again));
  const auto& kept = std::get<answer>(again);
  EXPECT_EQ(kept.status, 201);
  EXPECT_EQ(kept.body, created().body);
  EXPECT_EQ(kept.headers, created().headers);
}

TEST_F(ledger_test, another_request_under_the_key_is_refused_and_another_scope_is_another_key) {
  ledger_->finish(std::get<attempt>(begin("k")), created());
  const auto other_body = begin("k", R"({"email":"bea@example.com"})");
  ASSERT_TRUE(std::holds_alternative<refusal>(other_body));
  EXPECT_EQ(std::get<refusal>(other_body), refusal::key_reused);
  EXPECT_TRUE(std::holds_alternative<refusal>(ledger_->begin({"public", "k", "PATCH", "/signup", R"({"email":"ada@example.com"})"})));
  EXPECT_TRUE(std::holds_alternative<attempt>(begin("k", R"({"email":"ada@example.com"})", "user:someone")));
}

TEST_F(ledger_test, a_running_attempt_makes_retries_wait_until_its_lease_lapses) {
  const auto first = std::get<attempt>(begin("k"));
  now_ += 29;
  const auto waiting = begin("k");
  ASSERT_TRUE(std::holds_alternative<refusal>(waiting));
  EXPECT_EQ(std::get<refusal>(waiting), refusal::in_progress);
  now_ += 1;  // the lease is over: the first attempt's process is presumed dead
  const auto taken = begin("k");
  ASSERT_TRUE(std::holds_alternative<attempt>(taken));
  EXPECT_TRUE(std::get<attempt>(taken).may_have_run_before);
  EXPECT_EQ(std::get<attempt>(taken).seed, first.seed) << "the same action: the same ids";
  EXPECT_TRUE(std::holds_alternative<refusal>(begin("k"))) << "and now the new attempt holds it";
}

TEST_F(ledger_test, an_attempt_without_a_final_answer_opens_the_record_for_the_next_retry) {
  for (const int status : {500, 503, 401, 429}) {
    const std::string key = "k" + std::to_string(status);
    const auto first = std::get<attempt>(begin(key));
    ledger_->finish(first, {status, {}, R"({"error":{}})"});
    const auto retry = begin(key);
    ASSERT_TRUE(std::holds_alternative<attempt>(retry)) << status;
    EXPECT_TRUE(std::get<attempt>(retry).may_have_run_before) << status;
    EXPECT_EQ(std::get<attempt>(retry).seed, first.seed) << status;
    EXPECT_TRUE(std::holds_alternative<refusal>(begin(key, "another body"))) << "still bound to its request";
  }
  const auto crashed = std::get<attempt>(begin("bug"));
  ledger_->abandon(crashed);
  EXPECT_TRUE(std::holds_alternative<attempt>(begin("bug")));
}

TEST_F(ledger_test, final_answers_include_client_errors_but_not_oversized_ones) {
  EXPECT_TRUE(is_final(200));
  EXPECT_TRUE(is_final(204));
  EXPECT_TRUE(is_final(400));
  EXPECT_TRUE(is_final(409));
  EXPECT_TRUE(is_final(422));
  EXPECT_FALSE(is_final(401));
  EXPECT_FALSE(is_final(429));
  EXPECT_FALSE(is_final(500));
  EXPECT_FALSE(is_final(503));
  const auto big = std::get<attempt>(begin("big"));
  ledger_->finish(big, {200, {}, std::string(2000, 'x')});
  EXPECT_TRUE(std::holds_alternative<attempt>(begin("big"))) << "over max_answer_bytes: not kept, runs again";
}

TEST_F(ledger_test, an_expired_record_is_a_new_action_with_new_ids) {
  const auto first = std::get<attempt>(begin("k"));
  ledger_->finish(first, created());
  now_ += 86400;
  const auto later = begin("k", "a different body, a day later");
  ASSERT_TRUE(std::holds_alternative<attempt>(later));
  EXPECT_FALSE(std::get<attempt>(later).may_have_run_before);
  EXPECT_NE(std::get<attempt>(later).seed, first.seed);
}

TEST_F(ledger_test, a_kept_answer_altered_or_moved_in_the_store_is_never_given_out) {
  const auto a = std::get<attempt>(begin("a"));
  ledger_->finish(a, created());
  const auto b = std::get<attempt>(begin("b"));
  ledger_->finish(b, {200, {}, "b's answer"});
  {
    // b's sealed answer copied onto a's record: it names another record.
    auto conn = db_->acquire();
    auto st = conn->prepare("UPDATE idempotency_records SET answer = (SELECT answer FROM idempotency_records WHERE id = ?) WHERE id = ?");
    st.bind(1, b.record_id).bind(2, a.record_id);
    st.step();
  }
  try {
    (void)begin("a");
    FAIL() << "a moved answer opened";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::unavailable);
  }
}

TEST_F(ledger_test, nothing_the_store_holds_is_the_key_the_body_or_the_answer) {
  const auto run = std::get<attempt>(begin("my-secret-key", R"({"password":"hunter2hunter2"})"));
  ledger_->finish(run, {200, {}, R"({"refresh_token":"r3fr3sh"})"});
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT id, fingerprint, holder, answer FROM idempotency_records");
  ASSERT_TRUE(st.step());
  std::string row;
  for (int i = 0; i < 4; ++i) row += st.column_text(i) + "|";
  for (const char* secret : {"my-secret-key", "hunter2", "r3fr3sh"}) EXPECT_EQ(row.find(secret), std::string::npos) << secret;
  EXPECT_EQ(st.column_text(0), run.record_id);
  // The answer column is base64 of sealed bytes: decoded, it still shows
  // neither the kept answer's JSON nor its body in any encoding.
  const auto stored = crypto::base64_decode(st.column_text(3));
  ASSERT_TRUE(stored);
  const std::string body = R"({"refresh_token":"r3fr3sh"})";
  for (const std::string& plain : {std::string("\"status\""), body, crypto::base64_encode(body)})
    EXPECT_EQ(stored->find(plain), std::string::npos) << plain;
}

}  // namespace
}  // namespace gatehouse::idempotency
