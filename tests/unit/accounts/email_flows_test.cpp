// The e-mail flows of the domain layer (verification, reset, password and
// e-mail change, rename) on in-memory stores: what each mails, what its
// link does once and never twice, and what it refuses.
#include "accounts/account_fixture.hpp"
#include "http/expect_error.hpp"

#include <gtest/gtest.h>

namespace gatehouse::accounts {
namespace {

using namespace gatehouse::testing;

class email_flows_test : public account_fixture {};

std::string only_token(const std::vector<mail::outgoing>& mails) {
  EXPECT_EQ(mails.size(), 1u);
  if (mails.empty()) return {};
  const auto t = token_in(mails.back());
  EXPECT_TRUE(t.has_value()) << mails.back().data;
  return t.value_or("");
}

TEST_F(email_flows_test, sign_up_mails_a_link_that_verifies_the_address_once) {
  const auto u = ada();
  EXPECT_FALSE(u.email_verified);
  const auto token = only_token(outbox.sent_to("ada@example.com"));
  EXPECT_NE(outbox.sent().front().data.find("https://app.example.com/#/verify-email?token="), std::string::npos)
      << "the link opens the page, which asks for a click";
  const auto verified = verification.confirm(token);
  EXPECT_TRUE(verified.email_verified);
  EXPECT_TRUE(users.find_by_id(u.user_id)->email_verified);
  EXPECT_TRUE(throws_error([&] { (void)verification.confirm(token); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"));
  EXPECT_TRUE(throws_error([&] { verification.request_for(verified, from_home); }, error_kind::already_exists,
                           "already_verified"));
}

TEST_F(email_flows_test, a_verification_link_expires_after_24_hours) {
  (void)ada();
  const auto token = only_token(outbox.sent());
  now += 24 * 3600;
  EXPECT_TRUE(throws_error([&] { (void)verification.confirm(token); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"));
}

TEST_F(email_flows_test, tokens_of_every_wrong_shape_or_purpose_are_the_same_400) {
  const auto u = ada();
  const auto verify_token = only_token(outbox.sent());
  resets.forgot("ada@example.com", from_home);
  const auto reset_token = *token_in(outbox.sent().back());
  std::vector<std::string> bad{"", "x", std::string(641, 'A'), "not base64!", verify_token + "A",
                               verify_token.substr(0, verify_token.size() - 2), reset_token};
  std::string flipped = verify_token;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  bad.push_back(flipped);
  for (const auto& t : bad)
    EXPECT_TRUE(throws_error([&] { (void)verification.confirm(t); }, error_kind::invalid_argument,
                             "invalid_or_expired_token"))
        << t;
  EXPECT_TRUE(throws_error([&] { (void)resets.reset(verify_token, "a new password"); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"))
      << "a verification link is no reset link";
  EXPECT_FALSE(users.find_by_id(u.user_id)->email_verified);
}

class verification_off_test : public account_fixture {
 protected:
  verification_off_test() : account_fixture(verification_mode::off) {}
};

class verification_required_test : public account_fixture {
 protected:
  verification_required_test() : account_fixture(verification_mode::required) {}
};

TEST_F(verification_off_test, sends_nothing_at_sign_up_or_on_request) {
  const auto u = ada();
  verification.request_for(u, from_home);
  verification.request_for_email("ada@example.com", from_home);
  EXPECT_TRUE(outbox.sent().empty());
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_home));
}

TEST_F(verification_required_test, login_is_403_until_verified_and_only_after_a_right_password) {
  (void)ada();
  EXPECT_TRUE(throws_error([&] { (void)accounts.log_in("ada@example.com", "wrong horse", from_home); },
                           error_kind::unauthenticated, "invalid_credentials"));
  EXPECT_TRUE(throws_error([&] { (void)accounts.log_in("ada@example.com", "correct horse", from_home); },
                           error_kind::permission_denied, "email_not_verified"));
  // Locked out of login, the user asks by address and gets a fresh link.
  verification.request_for_email("ADA@example.com ", from_elsewhere);
  const auto mails = outbox.sent_to("ada@example.com");
  ASSERT_EQ(mails.size(), 2u);
  (void)verification.confirm(*token_in(mails.back()));
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "correct horse", from_home));
}

TEST_F(email_flows_test, asking_by_address_answers_alike_and_mails_only_an_unverified_account) {
  (void)ada();
  verification.confirm(only_token(outbox.sent()));
  const auto before = outbox.sent().size();
  EXPECT_NO_THROW(verification.request_for_email("nobody@example.com", from_home));
  EXPECT_NO_THROW(verification.request_for_email("ada@example.com", from_home));
  EXPECT_EQ(outbox.sent().size(), before) << "neither an unknown nor a verified address gets mail";
  EXPECT_TRUE(throws_error([&] { verification.request_for_email("not an address", from_home); },
                           error_kind::invalid_argument, "validation_failed", "email"));
}

TEST_F(email_flows_test, mail_routes_are_limited_per_address_whether_or_not_it_has_an_account) {
  for (int i = 0; i < 5; ++i) EXPECT_NO_THROW(resets.forgot("nobody@example.com", from_home)) << i;
  EXPECT_TRUE(throws_error([&] { resets.forgot("nobody@example.com", from_elsewhere); }, error_kind::resource_exhausted,
                           "rate_limited"));
  EXPECT_NO_THROW(resets.forgot("somebody-else@example.com", from_home));
  now += 3600;
  EXPECT_NO_THROW(resets.forgot("nobody@example.com", from_home));
}

TEST_F(email_flows_test, forgot_mails_only_an_existing_account_and_answers_alike) {
  const auto u = ada();
  const auto before = outbox.sent().size();
  EXPECT_NO_THROW(resets.forgot("nobody@example.com", from_home));
  EXPECT_EQ(outbox.sent().size(), before);
  EXPECT_NO_THROW(resets.forgot("Ada@Example.com", from_home));
  const auto mails = outbox.sent_to("ada@example.com");
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_NE(mails.back().data.find("#/reset-password?token="), std::string::npos);
  // A transport that refuses changes nothing the client is told.
  outbox.fail_next = 1;
  EXPECT_NO_THROW(resets.forgot("ada@example.com", from_home));
  EXPECT_EQ(outbox.sent_to("ada@example.com").size(), 2u);
  EXPECT_TRUE(users.find_by_id(u.user_id));
}

TEST_F(email_flows_test, a_reset_sets_the_password_ends_every_session_and_kills_every_other_reset_link) {
  const auto u = ada();
  const auto s1 = accounts.log_in("ada@example.com", "correct horse", from_home);
  const auto s2 = accounts.log_in("ada@example.com", "correct horse", from_elsewhere);
  resets.forgot("ada@example.com", from_home);
  const auto first = *token_in(outbox.sent().back());
  resets.forgot("ada@example.com", from_home);
  const auto second = *token_in(outbox.sent().back());
  EXPECT_NE(first, second);

  EXPECT_TRUE(throws_error([&] { (void)resets.reset(second, "short"); }, error_kind::invalid_argument,
                           "validation_failed", "password"));
  const auto reset = resets.reset(second, "a brand new password");
  EXPECT_EQ(reset.user_id, u.user_id);
  EXPECT_TRUE(reset.email_verified) << "the link reached the address";
  for (const auto& token : {first, second})
    EXPECT_TRUE(throws_error([&] { (void)resets.reset(token, "yet another password"); }, error_kind::invalid_argument,
                             "invalid_or_expired_token"));
  for (const auto& s : {s1, s2})
    EXPECT_TRUE(throws_error([&] { (void)accounts.refresh(s.refresh_token); }, error_kind::unauthenticated,
                             "invalid_refresh_token"));
  EXPECT_TRUE(throws_error([&] { (void)accounts.log_in("ada@example.com", "correct horse", from_home); },
                           error_kind::unauthenticated, "invalid_credentials"));
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "a brand new password", from_home));
  const auto notice = outbox.sent().back();
  EXPECT_EQ(notice.recipient, "ada@example.com");
  EXPECT_FALSE(token_in(notice)) << "a notice carries no link";
}

TEST_F(email_flows_test, a_reset_link_mailed_before_an_email_change_resets_nothing_after_it) {
  const auto u = ada();
  resets.forgot("ada@example.com", from_home);
  const auto stale_link = *token_in(outbox.sent().back());
  email_changes.request(u, "new@example.com", "correct horse", from_home);
  (void)email_changes.confirm(*token_in(outbox.sent_to("new@example.com").back()));
  EXPECT_TRUE(throws_error([&] { (void)resets.reset(stale_link, "a brand new password"); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"))
      << "the old mailbox no longer speaks for the account";
  EXPECT_NO_THROW((void)accounts.log_in("new@example.com", "correct horse", from_home));
}

TEST_F(email_flows_test, an_answer_that_sent_nothing_waits_as_long_as_one_that_did) {
  answer_pacing paced;
  for (int i = 0; i < 4; ++i) paced.record(std::chrono::milliseconds(60));
  const auto started = answer_pacing::clock::now();
  paced.imitate(started);
  EXPECT_GE(answer_pacing::clock::now() - started, std::chrono::milliseconds(60))
      << "every recorded answer took 60 ms, so the imitation takes at least that";
}

TEST_F(email_flows_test, a_reset_link_lives_one_hour) {
  (void)ada();
  resets.forgot("ada@example.com", from_home);
  const auto token = *token_in(outbox.sent().back());
  now += 3600;
  EXPECT_TRUE(throws_error([&] { (void)resets.reset(token, "a brand new password"); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"));
}

TEST_F(email_flows_test, changing_the_password_needs_the_current_one_and_returns_the_only_live_session) {
  const auto u = ada();
  const auto old_session = accounts.log_in("ada@example.com", "correct horse", from_home);
  resets.forgot("ada@example.com", from_home);
  const auto pending_reset = *token_in(outbox.sent().back());
  EXPECT_TRUE(throws_error([&] { (void)accounts.change_password(u, "wrong horse", "a new password", from_home); },
                           error_kind::unauthenticated, "invalid_credentials"));
  EXPECT_TRUE(throws_error([&] { (void)accounts.change_password(u, "correct horse", "short", from_home); },
                           error_kind::invalid_argument, "validation_failed", "new_password"));
  const auto stored = *users.find_by_id(u.user_id);
  const auto fresh = accounts.change_password(stored, "correct horse", "a new password", from_home);
  EXPECT_TRUE(tokens.verify(fresh.access_token, now.load()));
  EXPECT_NO_THROW((void)accounts.refresh(fresh.refresh_token));
  EXPECT_TRUE(throws_error([&] { (void)accounts.refresh(old_session.refresh_token); }, error_kind::unauthenticated,
                           "invalid_refresh_token"));
  EXPECT_TRUE(throws_error([&] { (void)resets.reset(pending_reset, "another password"); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"))
      << "a reset link dies with the password it was issued for";
  EXPECT_NO_THROW((void)accounts.log_in("ada@example.com", "a new password", from_home));
  EXPECT_EQ(outbox.sent().back().recipient, "ada@example.com");
}

TEST_F(email_flows_test, the_current_password_is_limited_like_a_login) {
  const auto u = ada();
  for (int i = 0; i < 3; ++i) EXPECT_ANY_THROW((void)accounts.change_password(u, "guess", "a new password", from_home));
  EXPECT_TRUE(throws_error([&] { (void)accounts.change_password(u, "correct horse", "a new password", from_home); },
                           error_kind::resource_exhausted, "rate_limited"));
}

TEST_F(email_flows_test, rename_normalises_and_validates_the_name) {
  const auto u = ada();
  EXPECT_EQ(accounts.rename(u, "  Grace Hopper ").name, "Grace Hopper");
  EXPECT_EQ(users.find_by_id(u.user_id)->name, "Grace Hopper");
  for (const std::string& bad : {std::string(""), std::string(101, 'x'), std::string("a\nb"), std::string("\xff")})
    EXPECT_TRUE(throws_error([&] { (void)accounts.rename(u, bad); }, error_kind::invalid_argument, "validation_failed",
                             "name"));
}

TEST_F(email_flows_test, an_email_change_mails_both_addresses_and_moves_the_account_once_confirmed) {
  const auto u = ada();
  EXPECT_TRUE(throws_error([&] { email_changes.request(u, "new@example.com", "wrong horse", from_home); },
                           error_kind::unauthenticated, "invalid_credentials"));
  EXPECT_TRUE(throws_error([&] { email_changes.request(u, "ADA@example.com", "correct horse", from_home); },
                           error_kind::invalid_argument, "validation_failed", "new_email"));
  (void)accounts.sign_up({"Taken", "taken@example.com", "long enough"}, from_elsewhere);
  EXPECT_TRUE(throws_error([&] { email_changes.request(u, "taken@example.com", "correct horse", from_home); },
                           error_kind::already_exists, "email_taken", "new_email"));

  email_changes.request(u, " New@Example.com", "correct horse", from_home);
  const auto confirm = outbox.sent_to("new@example.com");
  const auto token = only_token(confirm);
  const auto notices = outbox.sent_to("ada@example.com");
  EXPECT_FALSE(token_in(notices.back())) << "the old address gets a notice without a link";
  EXPECT_EQ(users.find_by_id(u.user_id)->email, "ada@example.com") << "nothing changes before the click";

  const auto moved = email_changes.confirm(token);
  EXPECT_EQ(moved.email, "new@example.com");
  EXPECT_TRUE(moved.email_verified);
  EXPECT_TRUE(throws_error([&] { (void)email_changes.confirm(token); }, error_kind::invalid_argument,
                           "invalid_or_expired_token"));
  EXPECT_NO_THROW((void)accounts.log_in("new@example.com", "correct horse", from_home));
  EXPECT_NO_THROW((void)accounts.sign_up({"Ada again", "ada@example.com", "long enough"}, from_elsewhere))
      << "the old address is free";
}

TEST_F(email_flows_test, two_accounts_confirming_one_new_address_give_one_move_and_one_email_taken) {
  const auto a = ada();
  const auto b = accounts.sign_up({"Bob", "bob@example.com", "long enough"}, from_elsewhere);
  email_changes.request(a, "prize@example.com", "correct horse", from_home);
  email_changes.request(b, "prize@example.com", "long enough", from_elsewhere);
  const auto mails = outbox.sent_to("prize@example.com");
  ASSERT_EQ(mails.size(), 2u);
  (void)email_changes.confirm(*token_in(mails[1]));
  EXPECT_TRUE(throws_error([&] { (void)email_changes.confirm(*token_in(mails[0])); }, error_kind::already_exists,
                           "email_taken", "email"));
  EXPECT_EQ(users.find_by_email("prize@example.com")->user_id, b.user_id);
  EXPECT_EQ(users.find_by_id(a.user_id)->email, "ada@example.com");
}

}  // namespace
}  // namespace gatehouse::accounts
