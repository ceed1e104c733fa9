// RFC 6238 TOTP: the appendix B vectors (its SHA-1 rows, 8 digits), then the
// product's rules: 6 digits, one step of drift either side and no more, the
// matched step reported, replays of that step or an earlier one refused,
// and malformed codes refused before any HMAC.
#include "mfa/totp.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace gatehouse::mfa {
namespace {

const std::string rfc_secret = "12345678901234567890";

struct rfc6238_row {
  std::int64_t time;
  std::int64_t step;  // the table's T, in hex there
  const char* code;
};

const rfc6238_row appendix_b_sha1[] = {
    {59, 0x0000000000000001, "94287082"},          {1111111109, 0x00000000023523EC, "07081804"},
    {1111111111, 0x00000000023523ED, "14050471"},  {1234567890, 0x000000000273EF07, "89005924"},
    {2000000000, 0x0000000003F940AA, "69279037"},  {20000000000, 0x0000000027BC86AA, "65353130"},
};

TEST(mfa_totp, matches_rfc6238_appendix_b_sha1_rows) {
  for (const auto& row : appendix_b_sha1) {
    const auto step = totp_step_at(row.time);
    ASSERT_TRUE(step) << row.time;
    EXPECT_EQ(*step, row.step) << row.time;
    EXPECT_EQ(totp_code(rfc_secret, *step, 8), row.code) << row.time;
  }
}

TEST(mfa_totp, the_product_code_is_the_last_6_digits) {
  for (const auto& row : appendix_b_sha1)
    EXPECT_EQ(totp_code(rfc_secret, row.step), std::string(row.code).substr(2)) << row.time;
}

TEST(mfa_totp, steps_are_30_seconds_from_the_epoch_and_none_before_it) {
  EXPECT_EQ(totp_step_at(0), 0);
  EXPECT_EQ(totp_step_at(29), 0);
  EXPECT_EQ(totp_step_at(30), 1);
  EXPECT_EQ(totp_step_at(-1), std::nullopt);
  EXPECT_THROW(totp_code(rfc_secret, -1), std::invalid_argument);
}

TEST(mfa_totp, new_secrets_are_160_bits_and_fresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const auto secret = new_totp_secret();
    EXPECT_EQ(secret.size(), 20u);
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 20u);
}

constexpr std::int64_t now = 1111111111;  // inside step 0x23523ED
constexpr std::int64_t now_step = 0x23523ED;

TEST(mfa_totp, accepts_one_step_of_drift_either_side_and_says_which_step) {
  for (const std::int64_t drift : {-1, 0, 1}) {
    const auto verdict = check_totp(rfc_secret, totp_code(rfc_secret, now_step + drift), now, std::nullopt);
    EXPECT_EQ(verdict.outcome, totp_outcome::accepted) << drift;
    EXPECT_EQ(verdict.step, now_step + drift) << drift;
    EXPECT_TRUE(verdict.accepted());
  }
}

TEST(mfa_totp, refuses_two_steps_of_drift) {
  for (const std::int64_t drift : {-2, 2, -10, 10})
    EXPECT_EQ(check_totp(rfc_secret, totp_code(rfc_secret, now_step + drift), now, std::nullopt).outcome,
              totp_outcome::wrong_code)
        << drift;
}

TEST(mfa_totp, the_window_moves_at_the_step_boundary) {
  const std::int64_t boundary = (now_step + 1) * totp_period_seconds;  // first second of the next step
  const std::string old_code = totp_code(rfc_secret, now_step - 1);
  EXPECT_TRUE(check_totp(rfc_secret, old_code, boundary - 1, std::nullopt).accepted());
  EXPECT_EQ(check_totp(rfc_secret, old_code, boundary, std::nullopt).outcome, totp_outcome::wrong_code);
}

TEST(mfa_totp, refuses_a_replay_of_the_accepted_step) {
  const std::string code = totp_code(rfc_secret, now_step);
  const auto first = check_totp(rfc_secret, code, now, std::nullopt);
  ASSERT_TRUE(first.accepted());
  const auto again = check_totp(rfc_secret, code, now + 5, first.step);
  EXPECT_EQ(again.outcome, totp_outcome::replayed);
  EXPECT_FALSE(again.accepted());
}

TEST(mfa_totp, refuses_steps_before_the_accepted_one_and_takes_later_ones) {
  // A code one step ahead was accepted (a fast phone): the current step's
  // code, though inside the window, is older and refused.
  const std::int64_t last = now_step + 1;
  EXPECT_EQ(check_totp(rfc_secret, totp_code(rfc_secret, now_step), now, last).outcome, totp_outcome::replayed);
  EXPECT_EQ(check_totp(rfc_secret, totp_code(rfc_secret, now_step - 1), now, last).outcome, totp_outcome::replayed);
  EXPECT_EQ(check_totp(rfc_secret, totp_code(rfc_secret, now_step + 1), now, last).outcome, totp_outcome::replayed);
  // The next step is fresh again.
  const auto later = check_totp(rfc_secret, totp_code(rfc_secret, now_step + 2), now + totp_period_seconds, last);
  EXPECT_TRUE(later.accepted());
  EXPECT_EQ(later.step, now_step + 2);
}

TEST(mfa_totp, a_wrong_code_is_wrong_whatever_was_accepted) {
  std::string code = totp_code(rfc_secret, now_step);
  code[0] = code[0] == '9' ? '0' : static_cast<char>(code[0] + 1);
  EXPECT_EQ(check_totp(rfc_secret, code, now, std::nullopt).outcome, totp_outcome::wrong_code);
  EXPECT_EQ(check_totp(rfc_secret, code, now, now_step - 5).outcome, totp_outcome::wrong_code);
}

TEST(mfa_totp, refuses_malformed_codes_before_any_hmac) {
  const std::string good = totp_code(rfc_secret, now_step);
  for (const std::string& code :
       {std::string(), std::string("12345"), std::string("1234567"), " " + good, good + " ", good + "\n",
        good.substr(0, 5) + "a", std::string("-12345"), std::string("+12345"), std::string("12 345"),
        std::string("\xef\xbc\x91\x32\x33\x34\x35\x36"),  // a full-width 1, then 23456
        good.substr(0, 3) + std::string(1, '\0') + good.substr(4)}) {
    EXPECT_EQ(check_totp(rfc_secret, code, now, std::nullopt).outcome, totp_outcome::malformed) << code;
    // An empty secret would make any HMAC throw: a malformed code never gets that far.
    EXPECT_EQ(check_totp("", code, now, std::nullopt).outcome, totp_outcome::malformed) << code;
  }
  EXPECT_TRUE(is_well_formed_totp_code("000000"));
  EXPECT_FALSE(is_well_formed_totp_code("00000"));
}

TEST(mfa_totp, near_the_epoch_the_window_has_no_negative_step) {
  EXPECT_TRUE(check_totp(rfc_secret, totp_code(rfc_secret, 0), 5, std::nullopt).accepted());
  EXPECT_TRUE(check_totp(rfc_secret, totp_code(rfc_secret, 1), 5, std::nullopt).accepted());
  EXPECT_EQ(check_totp(rfc_secret, totp_code(rfc_secret, 0), -5, std::nullopt).outcome, totp_outcome::wrong_code);
}

TEST(mfa_totp, another_secret_gives_another_code) {
  EXPECT_EQ(check_totp("12345678901234567891", totp_code(rfc_secret, now_step), now, std::nullopt).outcome,
            totp_outcome::wrong_code);
}

}  // namespace
}  // namespace gatehouse::mfa
