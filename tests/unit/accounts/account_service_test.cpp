// accounts::account_service on in-memory stores and a clock the test moves.
#include "accounts/account_service.hpp"

#include "accounts/account_fixture.hpp"
#include "http/expect_error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

namespace gatehouse::accounts {
namespace {

using testing::throws_error;

using namespace gatehouse::testing;

class account_service_test : public account_fixture {};

TEST_F(account_service_test, sign_up_normalises_and_stores_a_hash_never_the_password) {
  const auto u = ada();
  EXPECT_EQ(u.name, "Ada Lovelace");
  EXPECT_EQ(u.email, "ada@example.com");
  EXPECT_EQ(u.user_id.size(), 36u);
  const auto stored = users.find_by_id(u.user_id);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->password_hash.starts_with("$2b$04$"));
  EXPECT_TRUE(passwords.verify("correct horse", stored->password_hash));
  EXPECT_EQ(stored->password_hash.find("correct horse"), std::string::npos);
}

TEST_F(account_service_test, a_taken_email_in_any_case_is_email_taken) {
  (void)ada();
  EXPECT_TRUE(throws_error([&] { (void)accounts.sign_up({"Other", "ADA@example.com", "another pass"}, from_elsewhere); },
                           error_kind::already_exists, "email_taken", "email"));
  EXPECT_EQ(users.size(), 1u);
}

TEST_F(account_service_test, invalid_fields_are_refused_before_the_sign_up_limit_counts_them) {
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(throws_error([&] { (void)accounts.sign_up({"X", "not-an-email", "long enough"}, from_home); },
                             error_kind::invalid_argument, "validation_failed", "email"));
  EXPECT_TRUE(throws_error([&] { (void)accounts.sign_up({"X", "x@example.com", "short"}, from_home); },
                           error_kind::invalid_argument, "validation_failed", "password"));
  (void)accounts.sign_up({"One", "one@example.com", "long enough"}, from_home);
  (void)accounts.sign_up({"Two", "two@example.com", "long enough"}, from_home);
  EXPECT_TRUE(throws_error([&] { (void)accounts.sign_up({"Three", "three@example.com", "long enough"}, from_home); },
                           error_kind::resource_exhausted, "rate_limited"));
  (void)accounts.sign_up({"Three", "three@example.com", "long enough"}, from_elsewhere);
}

TEST_F(account_service_test, log_in_returns_a_session_whose_access_token_names_the_user) {
  const auto u = ada();
  const auto s = accounts.log_in("ADA@example.com", "correct horse", from_home);
  EXPECT_EQ(s.user.user_id, u.user_id);
  EXPECT_EQ(s.expires_in, 600);
  EXPECT_TRUE(auth::is_well_formed_refresh_token(s.refresh_token));
  const auto claims = tokens.verify(s.access_token, now.load());
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->user_id, u.user_id);
  EXPECT_EQ(claims->email, "ada@example.com");
  EXPECT_EQ(claims->expires_at, start_time + 600);
}

TEST_F(account_service_test, unknown_email_wrong_password_and_malformed_email_fail_alike) {
  (void)ada();
  for (const auto& [email, password] : {std::pair{"nobody@example.com", "correct horse"},
                                        std::pair{"ada@example.com", "wrong horse"},
                                        std::pair{"not an email", "correct horse"}})
    EXPECT_TRUE(throws_error([&] { (void)accounts.log_in(email, password, from_home); },
                             error_kind::unauthenticated, "invalid_credentials"))
        << email;
}

TEST_F(account_service_test, failures_at_the_limit_refuse_even_the_right_password_from_there_only) {
  (void)ada();
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(throws_error([&] { (void)accounts.log_in("ada@example.com", "guess", from_home); },
                             error_kind::unauthenticated, "invalid_credentials"));
  EXPECT_TRUE(throws_error([&] { (void)accounts.log_in("ada@example.com", "correct horse", from_home); },
                           error_kind::resource_exhausted, "rate_limited"));
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_elsewhere));
  now += 900;  // the window ends
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_home));
}

TEST_F(account_service_test, a_right_password_forgives_the_earlier_typos_from_that_address) {
  (void)ada();
  for (int i = 0; i < 2; ++i)
    EXPECT_ANY_THROW((void)accounts.log_in("ada@example.com", "typo", from_home));
  (void)accounts.log_in("ada@example.com", "correct horse", from_home);
  for (int i = 0; i < 2; ++i)
    EXPECT_ANY_THROW((void)accounts.log_in("ada@example.com", "typo", from_home));
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_home));
}

TEST_F(account_service_test, a_hash_of_another_cost_is_replaced_at_login_and_keeps_working) {
  auto u = ada();
  const auto old_hash = auth::password_hasher{5}.hash("correct horse");
  ASSERT_TRUE(users.replace_password_hash(u.user_id, users.find_by_id(u.user_id)->password_hash, old_hash));
  (void)accounts.log_in("ada@example.com", "correct horse", from_home);
  const auto upgraded = users.find_by_id(u.user_id)->password_hash;
  EXPECT_NE(upgraded, old_hash);
  EXPECT_TRUE(upgraded.starts_with("$2b$04$"));
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_home));
}

TEST_F(account_service_test, refresh_rotates_into_a_new_session_and_log_out_ends_it) {
  (void)ada();
  const auto first = accounts.log_in("ada@example.com", "correct horse", from_home);
  now += 60;
  const auto second = accounts.refresh(first.refresh_token);
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_EQ(second.user.email, "ada@example.com");
  EXPECT_EQ(tokens.verify(second.access_token, now.load())->expires_at, start_time + 60 + 600);

  accounts.log_out(second.refresh_token);
  EXPECT_TRUE(throws_error([&] { (void)accounts.refresh(second.refresh_token); }, error_kind::unauthenticated,
                           "invalid_refresh_token"));
  EXPECT_NO_THROW(accounts.log_out("not a token"));  // nothing, silently
}

TEST_F(account_service_test, a_deleted_users_refresh_token_and_access_token_open_nothing) {
  const auto u = ada();
  const auto s = accounts.log_in("ada@example.com", "correct horse", from_home);
  ASSERT_TRUE(accounts.authenticate(s.access_token));
  users.erase(u.user_id);
  EXPECT_FALSE(accounts.authenticate(s.access_token));
  EXPECT_TRUE(throws_error([&] { (void)accounts.refresh(s.refresh_token); }, error_kind::unauthenticated,
                           "invalid_refresh_token"));
}

TEST_F(account_service_test, authenticate_names_the_caller_until_the_token_expires) {
  const auto u = ada();
  const auto s = accounts.log_in("ada@example.com", "correct horse", from_home);
  const auto caller = accounts.authenticate(s.access_token);
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->user_id, u.user_id);
  EXPECT_EQ(caller->user.name, "Ada Lovelace");
  EXPECT_FALSE(accounts.authenticate(s.access_token + "x"));
  EXPECT_FALSE(accounts.authenticate(""));
  now += 600 + 30;  // the TTL and the verifier's leeway: still good
  EXPECT_TRUE(accounts.authenticate(s.access_token));
  now += 1;
  EXPECT_FALSE(accounts.authenticate(s.access_token));
}

TEST_F(account_service_test, only_the_user_themself_sees_everything_of_a_listed_user) {
  const auto a = ada();
  const auto b = accounts.sign_up({"Bob", "bob@example.com", "long enough"}, from_elsewhere);
  const auto caller = accounts.authenticate(accounts.log_in("ada@example.com", "correct horse", from_home).access_token);
  ASSERT_TRUE(caller);
  EXPECT_TRUE(account_service::sees_everything_of(*caller, a));
  EXPECT_FALSE(account_service::sees_everything_of(*caller, b));
  const auto page = accounts.list_users(1, std::nullopt);
  ASSERT_EQ(page.users.size(), 1u);
  ASSERT_TRUE(page.next_cursor);
  EXPECT_EQ(accounts.list_users(5, *page.next_cursor).users.size(), 1u);
}

}  // namespace
}  // namespace gatehouse::accounts
