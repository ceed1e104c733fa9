// The otpauth:// URI: Google's Key Uri Format examples to the byte, the
// percent-encoding of what e-mail addresses and issuer names contain, and
// the names refused. (tests/unit/mfa/totp_crosscheck_test.cpp has the
// otpauth npm package read these URIs back.)
#include "mfa/otpauth_uri.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gatehouse::mfa {
namespace {

const std::string hello_secret = "Hello!\xDE\xAD\xBE\xEF";  // JBSWY3DPEHPK3PXP
const std::string tail = "&algorithm=SHA1&digits=6&period=30";

TEST(mfa_otpauth_uri, writes_the_key_uri_format_example) {
  // The format's own example, with '@' encoded as RFC 3986 asks.
  EXPECT_EQ(otpauth_uri("Example", "alice@google.com", hello_secret),
            "otpauth://totp/Example:alice%40google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example" + tail);
}

TEST(mfa_otpauth_uri, encodes_spaces_as_percent_20_in_label_and_parameter) {
  EXPECT_EQ(otpauth_uri("ACME Co", "john.doe@email.com", hello_secret),
            "otpauth://totp/ACME%20Co:john.doe%40email.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co" + tail);
}

TEST(mfa_otpauth_uri, encodes_plus_addresses_and_non_ascii_issuers_byte_by_byte) {
  EXPECT_EQ(otpauth_uri("Z\xC3\xBCrich Bank", "ada+mfa@example.com", hello_secret),
            "otpauth://totp/Z%C3%BCrich%20Bank:ada%2Bmfa%40example.com?secret=JBSWY3DPEHPK3PXP"
            "&issuer=Z%C3%BCrich%20Bank" + tail);
}

TEST(mfa_otpauth_uri, encodes_uri_delimiters_so_they_cannot_end_a_part) {
  const auto uri = otpauth_uri("A&B=C?D#E/F", "x:y@example.com", hello_secret);
  EXPECT_EQ(uri, "otpauth://totp/A%26B%3DC%3FD%23E%2FF:x%3Ay%40example.com?secret=JBSWY3DPEHPK3PXP"
                 "&issuer=A%26B%3DC%3FD%23E%2FF" + tail);
}

TEST(mfa_otpauth_uri, carries_a_20_byte_secret_as_32_base32_characters) {
  const auto uri = otpauth_uri("Gatehouse", "ada@example.com", std::string(20, '\0'));
  EXPECT_NE(uri.find("?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&"), std::string::npos) << uri;
}

TEST(mfa_otpauth_uri, refuses_names_apps_would_misread) {
  const std::string long_issuer(max_issuer_bytes + 1, 'i');
  const std::string long_account(max_account_bytes + 1, 'a');
  struct bad {
    std::string issuer, account;
  };
  for (const auto& b : {bad{"", "ada@example.com"}, bad{"Gatehouse", ""}, bad{"Gate:house", "ada@example.com"},
                        bad{long_issuer, "ada@example.com"}, bad{"Gatehouse", long_account},
                        bad{"Gate\nhouse", "ada@example.com"}, bad{"Gatehouse", "ada\t@example.com"},
                        bad{"Gate\x7Fhouse", "a@b.c"}, bad{"Gate\xC2\x85house", "a@b.c"},  // DEL, NEL (C1)
                        bad{"Gate\xC3house", "a@b.c"}, bad{"Gatehouse", "a\xED\xA0\x80@b.c"}}) {  // bad UTF-8
    EXPECT_THROW(otpauth_uri(b.issuer, b.account, hello_secret), std::invalid_argument) << b.issuer << " " << b.account;
  }
  EXPECT_NO_THROW(otpauth_uri(std::string(max_issuer_bytes, 'i'), std::string(max_account_bytes, 'a'), hello_secret));
}

TEST(mfa_otpauth_uri, refuses_empty_or_oversized_secrets_without_naming_them) {
  EXPECT_THROW(otpauth_uri("Gatehouse", "ada@example.com", ""), std::invalid_argument);
  const std::string secret(65, 'S');
  try {
    (void)otpauth_uri("Gatehouse", "ada@example.com", secret);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("SSS"), std::string::npos);
  }
}

}  // namespace
}  // namespace gatehouse::mfa
