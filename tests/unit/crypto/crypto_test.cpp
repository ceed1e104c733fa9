// Known-answer tests for the OpenSSL wrappers and our own base64 codecs.
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace gatehouse::crypto {
namespace {

using namespace std::string_literals;

// FIPS 180-2 appendix B.1 and the well-known empty-message digest.
TEST(sha256, matches_fips_vectors) {
  EXPECT_EQ(to_hex(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 section 4.2.
TEST(hmac_sha256, rfc4231_case_1) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

// RFC 4231 section 4.3: a key shorter than the output.
TEST(hmac_sha256, rfc4231_case_2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 section 4.7: a 131-byte key, longer than the block, is hashed first.
TEST(hmac_sha256, rfc4231_case_6_long_key) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// RFC 2202 section 3 (HMAC-SHA1, for TOTP): cases 1, 2 and 6 (an 80-byte
// key, longer than the block).
TEST(hmac_sha1, rfc2202_cases_1_2_and_6) {
  EXPECT_EQ(to_hex(as_bytes(hmac_sha1(std::string(20, '\x0b'), "Hi There"))),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(to_hex(as_bytes(hmac_sha1("Jefe", "what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(to_hex(as_bytes(hmac_sha1(std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"))),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// RFC 5869 appendix A.1: the basic case.
TEST(hkdf_sha256, rfc5869_case_1) {
  EXPECT_EQ(to_hex(hkdf_sha256(std::string(22, '\x0b'), from_hex("000102030405060708090a0b0c"),
                               from_hex("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 appendix A.2: long inputs and output.
TEST(hkdf_sha256, rfc5869_case_2) {
  std::string ikm, salt, info;
  for (int i = 0x00; i <= 0x4f; ++i) ikm += static_cast<char>(i);
  for (int i = 0x60; i <= 0xaf; ++i) salt += static_cast<char>(i);
  for (int i = 0xb0; i <= 0xff; ++i) info += static_cast<char>(i);
  EXPECT_EQ(to_hex(hkdf_sha256(ikm, salt, info, 82)),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

// RFC 5869 appendix A.3: no salt and no info.
TEST(hkdf_sha256, rfc5869_case_3_empty_salt_and_info) {
  EXPECT_EQ(to_hex(hkdf_sha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(hkdf_sha256, refuses_lengths_outside_rfc5869) {
  EXPECT_ANY_THROW((void)hkdf_sha256("key", "salt", "info", 0));
  EXPECT_ANY_THROW((void)hkdf_sha256("key", "salt", "info", 255 * 32 + 1));
  EXPECT_EQ(hkdf_sha256("key", "salt", "info", 255 * 32).size(), 255u * 32);
}

TEST(to_hex, encodes_every_byte_value_in_lower_case) {
  EXPECT_EQ(to_hex("\x00\x0f\xa0\xff"s), "000fa0ff");
  EXPECT_EQ(to_hex(""), "");
}

std::string sample_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 151 + 7) & 0xFF);
  return s;
}

// Round trip for every tail length, with the padded standard codec as the
// oracle (swap the two alphabet differences, drop the padding).
TEST(base64url, round_trips_lengths_0_to_40_without_padding) {
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string bytes = sample_bytes(n);
    const std::string text = base64url_encode(bytes);
    std::string expected = base64_encode(bytes);
    expected.erase(std::remove(expected.begin(), expected.end(), '='), expected.end());
    std::replace(expected.begin(), expected.end(), '+', '-');
    std::replace(expected.begin(), expected.end(), '/', '_');
    EXPECT_EQ(text, expected) << "length " << n;
    EXPECT_EQ(text.size(), (n * 4 + 2) / 3) << "length " << n;
    const auto back = base64url_decode(text);
    ASSERT_TRUE(back.has_value()) << "length " << n;
    EXPECT_EQ(*back, bytes) << "length " << n;
  }
}

TEST(base64url, uses_dash_and_underscore_for_62_and_63) {
  EXPECT_EQ(base64url_encode("\xfb\xff"s), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff"s);
}

TEST(base64url, rejects_padding) {
  EXPECT_EQ(base64url_decode("QQ=="), std::nullopt);
  EXPECT_EQ(base64url_decode("QUI="), std::nullopt);
}

TEST(base64url, rejects_standard_alphabet_plus_and_slash) {
  EXPECT_EQ(base64url_decode("+_8A"), std::nullopt);
  EXPECT_EQ(base64url_decode("-/8A"), std::nullopt);
}

TEST(base64url, rejects_bytes_outside_the_alphabet) {
  EXPECT_EQ(base64url_decode("QU I"), std::nullopt);
  EXPECT_EQ(base64url_decode("QU\nI"), std::nullopt);
  EXPECT_EQ(base64url_decode("QU\0I"s), std::nullopt);
  EXPECT_EQ(base64url_decode("QU\xc3\xa9"s), std::nullopt);
}

TEST(base64url, rejects_lengths_no_encoder_produces) {
  EXPECT_EQ(base64url_decode("A"), std::nullopt);
  EXPECT_EQ(base64url_decode("QUJDR"), std::nullopt);
}

// "QQ" is the only encoding of "A"; "QR" sets a bit that falls off the end.
TEST(base64url, rejects_non_zero_trailing_bits) {
  EXPECT_EQ(base64url_decode("QQ"), "A");
  EXPECT_EQ(base64url_decode("QR"), std::nullopt);
  EXPECT_EQ(base64url_decode("QUI"), "AB");
  EXPECT_EQ(base64url_decode("QUJ"), std::nullopt);
}

// RFC 4648 section 10.
TEST(base64, encodes_rfc4648_vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(base64, decodes_rfc4648_vectors) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
}

TEST(base64, rejects_missing_or_misplaced_padding_and_url_alphabet) {
  EXPECT_EQ(base64_decode("Zg"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);
  EXPECT_EQ(base64_decode("Z==="), std::nullopt);
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt);
  EXPECT_EQ(base64_decode("Zh=="), std::nullopt);  // non-zero trailing bits
  EXPECT_EQ(base64_decode("-_8A"), std::nullopt);
}

TEST(base64, round_trips_binary) {
  const std::string bytes = sample_bytes(256);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(uuid_v4, has_canonical_shape_version_4_and_rfc4122_variant) {
  for (int i = 0; i < 32; ++i) {
    const std::string id = uuid_v4();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t p = 0; p < id.size(); ++p) {
      if (p == 8 || p == 13 || p == 18 || p == 23)
        EXPECT_EQ(id[p], '-') << id;
      else
        EXPECT_TRUE(is_lower_hex(id[p])) << id;
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
  }
}

TEST(uuid_v4, two_calls_differ) { EXPECT_NE(uuid_v4(), uuid_v4()); }

TEST(random_bytes, returns_the_requested_count_and_fresh_bytes) {
  EXPECT_EQ(random_bytes(0), "");
  const std::string a = random_bytes(32);
  const std::string b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(constant_time_equal, compares_content_and_length) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "Secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secret "));
  EXPECT_FALSE(constant_time_equal("", "a"));
  // Embedded NULs are compared, not treated as terminators.
  EXPECT_FALSE(constant_time_equal("a\0b"s, "a\0c"s));
  EXPECT_TRUE(constant_time_equal("a\0b"s, "a\0b"s));
}

}  // namespace
}  // namespace gatehouse::crypto
