// Sealed TOTP secrets: what a store keeps opens only with the key and the
// user id it was sealed for, any altered byte makes it fail, and nothing
// in it spells the secret (raw, hex, base32 or base64 of any kind).
#include "mfa/sealed_secret.hpp"

#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"
#include "mfa/base32.hpp"
#include "mfa/totp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <cctype>
#include <string>

namespace gatehouse::mfa {
namespace {

const std::string key(32, '\x2a');
const std::string user = "0b6f0a9e-3b7e-4f0e-9c52-8f1d2a4c5e6f";
const std::string other_user = "5d1c7f3a-9e2b-4a6d-8c0f-1e3b5a7d9c2e";

TEST(mfa_sealed_secret, round_trips_for_the_same_user_and_key) {
  const std::string secret = new_totp_secret();
  const std::string sealed = seal_totp_secret(key, secret, user);
  EXPECT_TRUE(sealed.starts_with("v1."));
  EXPECT_EQ(sealed.size(), 3u + 64u);  // 12 + 20 + 16 bytes, as unpadded base64url
  EXPECT_EQ(open_totp_secret(key, sealed, user), secret);
}

TEST(mfa_sealed_secret, every_seal_differs) {
  const std::string secret = new_totp_secret();
  EXPECT_NE(seal_totp_secret(key, secret, user), seal_totp_secret(key, secret, user));
}

TEST(mfa_sealed_secret, does_not_open_on_another_users_row_or_under_another_key) {
  const std::string sealed = seal_totp_secret(key, new_totp_secret(), user);
  EXPECT_EQ(open_totp_secret(key, sealed, other_user), std::nullopt);
  EXPECT_EQ(open_totp_secret(key, sealed, user + " "), std::nullopt);
  EXPECT_EQ(open_totp_secret(key, sealed, ""), std::nullopt);
  EXPECT_EQ(open_totp_secret(std::string(32, '\x2b'), sealed, user), std::nullopt);
}

TEST(mfa_sealed_secret, any_altered_byte_makes_it_fail) {
  const std::string sealed = seal_totp_secret(key, new_totp_secret(), user);
  const std::string raw = crypto::base64url_decode(sealed.substr(3)).value();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_EQ(open_totp_secret(key, "v1." + crypto::base64url_encode(altered), user), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(open_totp_secret(key, "v1." + crypto::base64url_encode(raw.substr(0, raw.size() - 1)), user), std::nullopt);
  EXPECT_EQ(open_totp_secret(key, "v1." + crypto::base64url_encode(raw + "x"), user), std::nullopt);
}

TEST(mfa_sealed_secret, refuses_other_forms_of_the_stored_text) {
  const std::string sealed = seal_totp_secret(key, new_totp_secret(), user);
  for (const std::string& text : {std::string(), std::string("v1."), sealed.substr(3), "v2." + sealed.substr(3),
                                 "V1." + sealed.substr(3), sealed + "=", sealed + "!", " " + sealed,
                                 std::string("v1.") + std::string(max_sealed_secret_text, 'A')}) {
    EXPECT_EQ(open_totp_secret(key, text, user), std::nullopt) << text;
  }
}

TEST(mfa_sealed_secret, the_stored_form_spells_the_secret_in_no_encoding) {
  for (int i = 0; i < 50; ++i) {
    const std::string secret = new_totp_secret();
    const std::string sealed = seal_totp_secret(key, secret, user);
    const std::string raw = crypto::base64url_decode(sealed.substr(3)).value();
    std::string base32_lower = base32_encode(secret);
    for (char& c : base32_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& spelling :
         {secret, base32_encode(secret), base32_lower, crypto::base64_encode(secret),
          crypto::base64url_encode(secret), crypto::to_hex(secret)}) {
      // The first 12 bytes or characters of each spelling are already far
      // beyond chance for a ciphertext to contain.
      const std::string probe = spelling.substr(0, 12);
      EXPECT_EQ(sealed.find(probe), std::string::npos);
      EXPECT_EQ(raw.find(probe), std::string::npos);
    }
  }
}

TEST(mfa_sealed_secret, refuses_bad_inputs_without_naming_the_secret) {
  EXPECT_THROW(seal_totp_secret(key, "", user), std::invalid_argument);
  EXPECT_THROW(seal_totp_secret(key, new_totp_secret(), ""), std::invalid_argument);
  EXPECT_THROW(seal_totp_secret(std::string(16, 'k'), new_totp_secret(), user), std::invalid_argument);
  const std::string secret(65, 'S');
  try {
    (void)seal_totp_secret(key, secret, user);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("SSS"), std::string::npos);
  }
}

}  // namespace
}  // namespace gatehouse::mfa
