#include "base/error.hpp"
#include "files/url_signer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace gatehouse::files {
namespace {

const std::string key =
    "profile-images/0f8fad5b-d9cb-469f-a165-70867728950e/00112233445566778899aabbccddeeff.png";
constexpr std::int64_t expires = 1700000000;
constexpr std::int64_t before = expires - 60;

TEST(url_signer, signature_matches_an_independently_computed_hmac) {
  // printf 'v1\n<key>\n1700000000' | openssl dgst -sha256 -hmac 'test-signing-key'
  const url_signer signer("test-signing-key");
  EXPECT_EQ(signer.signature(key, expires),
            "311c9fb543eb6afdbd0eedec5650791b6aee4dca2cc3ab41602738a23f314343");
}

TEST(url_signer, own_signature_verifies_until_and_including_the_expiry_second) {
  const url_signer signer("k");
  const auto sig = signer.signature(key, expires);
  EXPECT_EQ(signer.verify(key, "1700000000", sig, before), url_check::valid);
  EXPECT_EQ(signer.verify(key, "1700000000", sig, expires), url_check::valid);
  EXPECT_EQ(signer.verify(key, "1700000000", sig, expires + 1), url_check::expired);
}

TEST(url_signer, tampered_key_is_an_invalid_signature) {
  const url_signer signer("k");
  const auto sig = signer.signature(key, expires);
  std::string other = key;
  other[other.size() - 5] = other[other.size() - 5] == '0' ? '1' : '0';  // another object
  EXPECT_EQ(signer.verify(other, "1700000000", sig, before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key + "x", "1700000000", sig, before), url_check::invalid_signature);
}

TEST(url_signer, tampered_expires_is_an_invalid_signature) {
  const url_signer signer("k");
  const auto sig = signer.signature(key, expires);
  EXPECT_EQ(signer.verify(key, "1700000001", sig, before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key, "9999999999", sig, before), url_check::invalid_signature);
}

TEST(url_signer, tampered_signature_is_invalid) {
  const url_signer signer("k");
  auto sig = signer.signature(key, expires);
  sig[10] = sig[10] == '0' ? '1' : '0';
  EXPECT_EQ(signer.verify(key, "1700000000", sig, before), url_check::invalid_signature);
}

TEST(url_signer, signature_from_another_key_is_invalid) {
  const url_signer ours("k1");
  const url_signer theirs("k2");
  EXPECT_EQ(ours.verify(key, "1700000000", theirs.signature(key, expires), before),
            url_check::invalid_signature);
}

TEST(url_signer, uppercase_or_wrong_length_hex_is_invalid) {
  const url_signer signer("k");
  const auto sig = signer.signature(key, expires);
  std::string upper = sig;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  ASSERT_NE(upper, sig);  // the digest has letters
  EXPECT_EQ(signer.verify(key, "1700000000", upper, before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key, "1700000000", sig.substr(0, 63), before),
            url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key, "1700000000", sig + "0", before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key, "1700000000", "", before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify(key, "1700000000", std::string(64, 'g'), before),
            url_check::invalid_signature);
}

TEST(url_signer, non_canonical_expires_is_invalid) {
  const url_signer signer("k");
  for (const std::string& bad : std::vector<std::string>{"", "-1", "+1700000000", " 1700000000", "1700000000 ", "17e8", "0x10", "abc",
        "01700000000", "99999999999999999999", "9223372036854775808", std::string("17\0", 3)}) {
    // The signature of the same instant: "01700000000" must not pass for "1700000000".
    const auto sig = signer.signature(key, expires);
    EXPECT_EQ(signer.verify(key, bad, sig, 0), url_check::invalid_signature) << bad;
  }
}

TEST(url_signer, largest_int64_expiry_is_accepted) {
  const url_signer signer("k");
  const std::int64_t max = INT64_MAX;
  EXPECT_EQ(signer.verify(key, "9223372036854775807", signer.signature(key, max), before),
            url_check::valid);
}

TEST(url_signer, expired_url_with_a_bad_signature_is_invalid_not_expired) {
  const url_signer signer("k");
  auto sig = signer.signature(key, expires);
  sig[0] = sig[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(signer.verify(key, "1700000000", sig, expires + 1000), url_check::invalid_signature);
}

TEST(url_signer, empty_signing_key_is_refused) {
  try {
    url_signer signer("");
    FAIL() << "empty key accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::internal);
  }
}

// ---- upload forms ----------------------------------------------------------

const std::string upload_key = "profile-images/0f8fad5b-d9cb-469f-a165-70867728950e/00112233445566778899aabbccddeeff";

TEST(url_signer, upload_signature_matches_an_independently_computed_hmac) {
  // printf 'upload v1\n<upload_key>\n1700000000\n5242880' | openssl dgst -sha256 -hmac 'test-signing-key'
  const url_signer signer("test-signing-key");
  EXPECT_EQ(signer.upload_signature(upload_key, expires, 5242880),
            "56c734c64be786c7577ccb4b84c74ec136108e97a88470858abfd75f9a44b2f7");
}

TEST(url_signer, upload_signature_verifies_until_and_including_the_expiry_second) {
  const url_signer signer("k");
  const auto sig = signer.upload_signature(upload_key, expires, 65536);
  EXPECT_EQ(signer.verify_upload(upload_key, "1700000000", "65536", sig, before), url_check::valid);
  EXPECT_EQ(signer.verify_upload(upload_key, "1700000000", "65536", sig, expires), url_check::valid);
  EXPECT_EQ(signer.verify_upload(upload_key, "1700000000", "65536", sig, expires + 1), url_check::expired);
}

TEST(url_signer, any_changed_upload_field_is_an_invalid_signature) {
  const url_signer signer("k");
  const auto sig = signer.upload_signature(upload_key, expires, 65536);
  std::string other_key = upload_key;
  other_key.back() = 'e';
  std::string bad_sig = sig;
  bad_sig[0] = bad_sig[0] == 'a' ? 'b' : 'a';
  const std::vector<std::vector<std::string>> cases = {
      {other_key, "1700000000", "65536", sig},  {upload_key, "1700000001", "65536", sig},
      {upload_key, "1700000000", "65537", sig}, {upload_key, "1700000000", "065536", sig},
      {upload_key, "01700000000", "65536", sig}, {upload_key, "1700000000", "", sig},
      {upload_key, "1700000000", "-1", sig},    {upload_key, "1700000000", "65536", bad_sig},
      {upload_key, "1700000000", "65536", ""},
  };
  for (const auto& c : cases)
    EXPECT_EQ(signer.verify_upload(c[0], c[1], c[2], c[3], before), url_check::invalid_signature)
        << c[0] << " " << c[1] << " " << c[2] << " " << c[3];
  // Expired and tampered: invalid, never "expired".
  EXPECT_EQ(signer.verify_upload(upload_key, "1700000000", "65537", sig, expires + 10), url_check::invalid_signature);
}

TEST(url_signer, url_and_upload_signatures_never_stand_in_for_each_other) {
  const url_signer signer("k");
  // The same key and expiry under both schemes: each verifies only as itself.
  const auto url_sig = signer.signature(upload_key, expires);
  const auto upload_sig = signer.upload_signature(upload_key, expires, 65536);
  EXPECT_NE(url_sig, upload_sig);
  EXPECT_EQ(signer.verify(upload_key, "1700000000", upload_sig, before), url_check::invalid_signature);
  EXPECT_EQ(signer.verify_upload(upload_key, "1700000000", "65536", url_sig, before), url_check::invalid_signature);
}

}  // namespace
}  // namespace gatehouse::files
