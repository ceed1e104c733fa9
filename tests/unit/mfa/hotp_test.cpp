// RFC 4226 HOTP against the RFC's own appendix D, and the bounds of its
// inputs.
#include "mfa/hotp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gatehouse::mfa {
namespace {

const std::string rfc_secret = "12345678901234567890";

TEST(mfa_hotp, matches_rfc4226_appendix_d_for_counters_0_to_9) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter)
    EXPECT_EQ(hotp_code(rfc_secret, counter, 6), expected[counter]) << "counter " << counter;
}

TEST(mfa_hotp, keeps_leading_zeros_and_the_digits_asked_for) {
  // RFC 6238's vector for T = 0x23523EC is 07081804: the zero must stay.
  EXPECT_EQ(hotp_code(rfc_secret, 0x23523EC, 8), "07081804");
  EXPECT_EQ(hotp_code(rfc_secret, 0x23523EC, 7), "7081804");
  EXPECT_EQ(hotp_code(rfc_secret, 0x23523EC, 6), "081804");
}

TEST(mfa_hotp, takes_the_whole_64_bit_counter) {
  EXPECT_NE(hotp_code(rfc_secret, 1, 6), hotp_code(rfc_secret, (std::uint64_t{1} << 32) | 1, 6));
  EXPECT_EQ(hotp_code(rfc_secret, UINT64_MAX, 6).size(), 6u);
}

TEST(mfa_hotp, refuses_empty_or_oversized_secrets_and_odd_digit_counts) {
  EXPECT_THROW(hotp_code("", 0, 6), std::invalid_argument);
  EXPECT_THROW(hotp_code(std::string(max_secret_bytes + 1, 'k'), 0, 6), std::invalid_argument);
  EXPECT_NO_THROW(hotp_code(std::string(max_secret_bytes, 'k'), 0, 6));
  EXPECT_THROW(hotp_code(rfc_secret, 0, 5), std::invalid_argument);
  EXPECT_THROW(hotp_code(rfc_secret, 0, 9), std::invalid_argument);
}

TEST(mfa_hotp, an_error_message_never_carries_the_secret) {
  const std::string secret(max_secret_bytes + 1, 's');
  try {
    (void)hotp_code(secret, 0, 6);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("sss"), std::string::npos);
  }
}

}  // namespace
}  // namespace gatehouse::mfa
