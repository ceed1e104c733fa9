// HS256 JWTs: round trip, the exact bytes we write, interoperability with
// Node's jsonwebtoken, and one test per way a token can be forged or broken.
// Attack tokens are signed with the real secret wherever possible, so each
// one is refused by the check it names and not by the signature check.
#include "auth/jwt.hpp"

#include "crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::auth {
namespace {

const std::string secret = "0123456789abcdef0123456789abcdef-test-secret";
const std::string issuer = "gatehouse";
constexpr std::int64_t iat = 1764345600;  // 2025-11-28T16:00:00Z
constexpr std::int64_t exp = iat + 3600;

const std::string standard_header = R"({"alg":"HS256","typ":"JWT"})";

std::string payload_with(const std::string& exp_json, const std::string& extra = "") {
  return R"({"sub":"u-1","userId":"u-1","email":"ada@example.com","iat":)" +
         std::to_string(iat) + R"(,"exp":)" + exp_json + R"(,"iss":"gatehouse")" + extra + "}";
}
const std::string standard_payload = payload_with(std::to_string(exp));

std::string b64(std::string_view s) { return crypto::base64url_encode(s); }

// header.payload.HMAC-SHA256(key), built by hand so any JSON can be signed.
std::string make_token(const std::string& header_json, const std::string& payload_json,
                       const std::string& key = secret) {
  const std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(crypto::as_bytes(crypto::hmac_sha256(key, input)));
}

std::vector<std::string> parts_of(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

class jwt_test : public ::testing::Test {
 protected:
  jwt_codec codec_{secret, issuer};
  const access_claims claims_{"u-1", "ada@example.com", iat, exp};

  std::optional<access_claims> verify(const std::string& token) const {
    return codec_.verify(token, iat + 60);
  }
};

void expect_claims(const std::optional<access_claims>& got, const access_claims& want) {
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->user_id, want.user_id);
  EXPECT_EQ(got->email, want.email);
  EXPECT_EQ(got->issued_at, want.issued_at);
  EXPECT_EQ(got->expires_at, want.expires_at);
}

TEST_F(jwt_test, sign_then_verify_returns_the_same_claims) {
  expect_claims(verify(codec_.sign(claims_)), claims_);
}

TEST_F(jwt_test, round_trips_emails_that_need_json_escaping) {
  const access_claims odd{"u-2", "a\"b\\c/\xc3\xa9@example.com", iat, exp};
  expect_claims(verify(codec_.sign(odd)), odd);
}

TEST_F(jwt_test, writes_the_exact_header_and_payload_bytes) {
  const auto parts = parts_of(codec_.sign(claims_));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(crypto::base64url_decode(parts[0]), standard_header);
  EXPECT_EQ(crypto::base64url_decode(parts[1]), standard_payload);
  EXPECT_EQ(parts[2].size(), 43u);  // 32 bytes, unpadded
}

TEST_F(jwt_test, payload_holds_sub_userid_email_iat_exp_iss) {
  const auto parts = parts_of(codec_.sign(claims_));
  ASSERT_EQ(parts.size(), 3u);
  const auto v = boost::json::parse(*crypto::base64url_decode(parts[1]));
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("sub").as_string(), "u-1");
  EXPECT_EQ(o.at("userId").as_string(), "u-1");
  EXPECT_EQ(o.at("email").as_string(), "ada@example.com");
  EXPECT_EQ(o.at("iat").as_int64(), iat);
  EXPECT_EQ(o.at("exp").as_int64(), exp);
  EXPECT_EQ(o.at("iss").as_string(), "gatehouse");
}

// Positive control for the hand-built tokens below: with the standard
// header and payload they verify, so each rejection is due to its one change.
TEST_F(jwt_test, hand_built_standard_token_verifies) {
  EXPECT_EQ(make_token(standard_header, standard_payload), codec_.sign(claims_));
  expect_claims(verify(make_token(standard_header, standard_payload)), claims_);
  expect_claims(verify(make_token(R"({"alg":"HS256"})", standard_payload)), claims_);
}

// Token made once with Node 20 and jsonwebtoken 9.0.3 (npm), not by our code:
//   jwt.sign({sub, userId, email, iat: 1764345600, exp: 1764349200, iss: 'gatehouse'},
//            '0123456789abcdef0123456789abcdef-node-interop', {algorithm: 'HS256'})
const std::string node_secret = "0123456789abcdef0123456789abcdef-node-interop";
const std::string node_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiI3ZjBjMmExZS0zYjRkLTRjNWUtOGY2YS05YjBjMWQyZTNmNDAiLCJ1c2VySWQiOiI3ZjBjMmExZS0zYjRk"
    "LTRjNWUtOGY2YS05YjBjMWQyZTNmNDAiLCJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSIsImlhdCI6MTc2NDM0NTYwMCwi"
    "ZXhwIjoxNzY0MzQ5MjAwLCJpc3MiOiJnYXRlaG91c2UifQ."
    "vqjmNCiXOuqdss07S_6iEwjJuGukXuyDyn8hMB5UxZc";
const access_claims node_claims{"7f0c2a1e-3b4d-4c5e-8f6a-9b0c1d2e3f40", "ada@example.com",
                                1764345600, 1764349200};

TEST(jwt_interop, verifies_a_token_from_node_jsonwebtoken) {
  const jwt_codec codec(node_secret, "gatehouse");
  expect_claims(codec.verify(node_token, 1764345600 + 10), node_claims);
  EXPECT_EQ(codec.verify(node_token, 1764349200 + 31), std::nullopt);
  EXPECT_EQ(jwt_codec(node_secret, "someone-else").verify(node_token, 1764345600 + 10),
            std::nullopt);
}

// Same claims, same key order, same header: the bytes must match exactly.
TEST(jwt_interop, signs_byte_for_byte_like_node_jsonwebtoken) {
  EXPECT_EQ(jwt_codec(node_secret, "gatehouse").sign(node_claims), node_token);
}

// --- header attacks -------------------------------------------------------

TEST_F(jwt_test, rejects_alg_none_with_empty_signature) {
  const std::string token = b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(standard_payload) + ".";
  EXPECT_EQ(verify(token), std::nullopt);
}

TEST_F(jwt_test, rejects_alg_none_even_when_the_hmac_is_right) {
  EXPECT_EQ(verify(make_token(R"({"alg":"none","typ":"JWT"})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_alg_hs512) {
  EXPECT_EQ(verify(make_token(R"({"alg":"HS512","typ":"JWT"})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_alg_in_the_wrong_case) {
  EXPECT_EQ(verify(make_token(R"({"alg":"hs256","typ":"JWT"})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_alg_rs256) {
  EXPECT_EQ(verify(make_token(R"({"alg":"RS256","typ":"JWT"})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_header_without_alg) {
  EXPECT_EQ(verify(make_token(R"({"typ":"JWT"})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_non_string_alg) {
  EXPECT_EQ(verify(make_token(R"({"alg":["HS256"]})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_crit_header) {
  EXPECT_EQ(verify(make_token(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", standard_payload)),
            std::nullopt);
}

TEST_F(jwt_test, rejects_typ_other_than_jwt) {
  EXPECT_EQ(verify(make_token(R"({"alg":"HS256","typ":"JWS"})", standard_payload)), std::nullopt);
  EXPECT_EQ(verify(make_token(R"({"alg":"HS256","typ":1})", standard_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_non_json_and_non_object_header) {
  EXPECT_EQ(verify(make_token("not json", standard_payload)), std::nullopt);
  EXPECT_EQ(verify(make_token(R"(["HS256"])", standard_payload)), std::nullopt);
  EXPECT_EQ(verify(make_token(R"({"alg":"HS256")", standard_payload)), std::nullopt);
  EXPECT_EQ(verify(make_token("", standard_payload)), std::nullopt);
}

// --- signature attacks ----------------------------------------------------

TEST_F(jwt_test, rejects_tampered_payload_with_the_old_signature) {
  const auto parts = parts_of(codec_.sign(claims_));
  std::string payload = *crypto::base64url_decode(parts[1]);
  payload.replace(payload.find("u-1"), 3, "u-2");
  payload.replace(payload.find("u-1"), 3, "u-2");
  EXPECT_EQ(verify(parts[0] + "." + b64(payload) + "." + parts[2]), std::nullopt);
}

TEST_F(jwt_test, rejects_tampered_signature) {
  std::string token = codec_.sign(claims_);
  const std::size_t i = token.rfind('.') + 10;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(token), std::nullopt);
}

TEST_F(jwt_test, rejects_signature_made_with_another_secret) {
  const jwt_codec other("another-secret-that-is-32-bytes-long!!", issuer);
  EXPECT_EQ(verify(other.sign(claims_)), std::nullopt);
}

TEST_F(jwt_test, rejects_truncated_or_extended_signature) {
  const std::string token = codec_.sign(claims_);
  const std::string input = token.substr(0, token.rfind('.'));
  const std::string mac(crypto::as_bytes(crypto::hmac_sha256(secret, input)));
  EXPECT_EQ(verify(input + "." + b64(mac.substr(0, 31))), std::nullopt);
  EXPECT_EQ(verify(input + "." + b64(mac + "x")), std::nullopt);
}

// --- claim checks ---------------------------------------------------------

TEST_F(jwt_test, rejects_wrong_issuer) {
  EXPECT_EQ(verify(jwt_codec(secret, "someone-else").sign(claims_)), std::nullopt);
}

TEST_F(jwt_test, rejects_missing_exp) {
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","email":"e@x.io","iat":1764345600,"iss":"gatehouse"})")),
            std::nullopt);
}

TEST_F(jwt_test, rejects_exp_past_the_leeway_and_accepts_within_it) {
  const std::string token = codec_.sign(claims_);
  EXPECT_TRUE(codec_.verify(token, exp).has_value());
  EXPECT_TRUE(codec_.verify(token, exp + 29).has_value());
  EXPECT_TRUE(codec_.verify(token, exp + 30).has_value());
  EXPECT_EQ(codec_.verify(token, exp + 31), std::nullopt);
  EXPECT_EQ(codec_.verify(token, exp + 1, 0), std::nullopt);
}

TEST_F(jwt_test, rejects_string_exp) {
  EXPECT_EQ(verify(make_token(standard_header, payload_with("\"1764349200\""))), std::nullopt);
}

TEST_F(jwt_test, rejects_non_integer_exp) {
  EXPECT_EQ(verify(make_token(standard_header, payload_with("1764349200.0"))), std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, payload_with("1.7643492e9"))), std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, payload_with("18446744073709551615"))),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, payload_with("null"))), std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, payload_with("true"))), std::nullopt);
}

// exp + leeway must not overflow into the past (or into UB).
TEST_F(jwt_test, accepts_the_largest_exp_without_overflow) {
  const auto got = verify(make_token(standard_header, payload_with("9223372036854775807")));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->expires_at, INT64_MAX);
}

TEST_F(jwt_test, rejects_iat_in_the_future_beyond_the_leeway) {
  const std::string token = codec_.sign(claims_);
  EXPECT_TRUE(codec_.verify(token, iat - 30).has_value());
  EXPECT_EQ(codec_.verify(token, iat - 31), std::nullopt);
}

TEST_F(jwt_test, rejects_missing_or_empty_sub) {
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"email":"e@x.io","iat":1764345600,"exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"","email":"e@x.io","iat":1764345600,"exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":7,"email":"e@x.io","iat":1764345600,"exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
}

TEST_F(jwt_test, rejects_missing_email_iat_or_iss) {
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","iat":1764345600,"exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","email":"e@x.io","exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","email":"e@x.io","iat":1764345600,"exp":1764349200})")),
            std::nullopt);
}

TEST_F(jwt_test, userid_is_optional_but_must_equal_sub) {
  expect_claims(verify(make_token(standard_header,
                                  R"({"sub":"u-1","email":"ada@example.com","iat":1764345600,)"
                                  R"("exp":1764349200,"iss":"gatehouse"})")),
                claims_);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","userId":"u-2","email":"e@x.io","iat":1764345600,)"
                              R"("exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header,
                              R"({"sub":"u-1","userId":null,"email":"e@x.io","iat":1764345600,)"
                              R"("exp":1764349200,"iss":"gatehouse"})")),
            std::nullopt);
}

TEST_F(jwt_test, rejects_non_object_or_deeply_nested_payload) {
  EXPECT_EQ(verify(make_token(standard_header, "[1,2,3]")), std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, "\"u-1\"")), std::nullopt);
  EXPECT_EQ(verify(make_token(standard_header, payload_with(std::to_string(exp),
                                                            R"(,"x":[[[[[[[[1]]]]]]]])"))),
            std::nullopt);
}

// --- structure ------------------------------------------------------------

TEST_F(jwt_test, rejects_two_parts) {
  const std::string token = codec_.sign(claims_);
  EXPECT_EQ(verify(token.substr(0, token.rfind('.'))), std::nullopt);
}

TEST_F(jwt_test, rejects_four_parts) {
  const std::string token = codec_.sign(claims_);
  EXPECT_EQ(verify(token + "."), std::nullopt);
  EXPECT_EQ(verify(token + ".e30"), std::nullopt);
}

TEST_F(jwt_test, rejects_padding_in_a_part) {
  // The 27-byte header encodes to 36 characters, so "====" keeps the length
  // a multiple of 4: only a decoder that tolerated padding would accept it.
  const auto parts = parts_of(codec_.sign(claims_));
  EXPECT_EQ(verify(parts[0] + "====." + parts[1] + "." + parts[2]), std::nullopt);
  EXPECT_EQ(verify(parts[0] + "." + parts[1] + "." + parts[2] + "="), std::nullopt);
}

TEST_F(jwt_test, rejects_characters_outside_base64url) {
  const auto parts = parts_of(codec_.sign(claims_));
  std::string sig_plus = parts[2];
  sig_plus[5] = '+';
  std::string sig_slash = parts[2];
  sig_slash[5] = '/';
  EXPECT_EQ(verify(parts[0] + "." + parts[1] + "." + sig_plus), std::nullopt);
  EXPECT_EQ(verify(parts[0] + "." + parts[1] + "." + sig_slash), std::nullopt);
  EXPECT_EQ(verify(parts[0] + " ." + parts[1] + "." + parts[2]), std::nullopt);
  EXPECT_EQ(verify(std::string(parts[0]) + "." + parts[1] + "\n." + parts[2]), std::nullopt);
}

TEST_F(jwt_test, rejects_a_one_mebibyte_token) {
  const std::string big_payload =
      payload_with(std::to_string(exp), R"(,"pad":")" + std::string(1 << 20, 'a') + "\"");
  EXPECT_EQ(verify(make_token(standard_header, big_payload)), std::nullopt);
}

TEST_F(jwt_test, rejects_empty_and_degenerate_tokens) {
  EXPECT_EQ(verify(""), std::nullopt);
  EXPECT_EQ(verify("."), std::nullopt);
  EXPECT_EQ(verify(".."), std::nullopt);
  EXPECT_EQ(verify("..."), std::nullopt);
  EXPECT_EQ(verify(std::string("\0\0\0", 3)), std::nullopt);
}

TEST(jwt_codec_construction, secret_shorter_than_32_bytes_throws) {
  EXPECT_THROW(jwt_codec(std::string(31, 's'), "gatehouse"), std::invalid_argument);
  EXPECT_THROW(jwt_codec("", "gatehouse"), std::invalid_argument);
  EXPECT_NO_THROW(jwt_codec(std::string(32, 's'), "gatehouse"));
}

// --- rotation: sign with the current key, verify with current or previous --

const std::string previous_secret = "previous-secret-0123456789abcdef-rotated";
const std::string stranger_secret = "a-secret-that-is-neither-current-nor-previous";

TEST(jwt_rotation, signs_with_the_current_key_byte_for_byte_like_a_single_key_codec) {
  const jwt_codec rotating(secret, {previous_secret}, issuer);
  const access_claims claims{"u-1", "ada@example.com", iat, exp};
  const std::string token = rotating.sign(claims);
  EXPECT_EQ(token, jwt_codec(secret, issuer).sign(claims));
  EXPECT_TRUE(jwt_codec(secret, issuer).verify(token, iat + 60).has_value());
  EXPECT_EQ(jwt_codec(previous_secret, issuer).verify(token, iat + 60), std::nullopt);
}

TEST(jwt_rotation, verifies_tokens_signed_with_the_current_or_the_previous_key) {
  const jwt_codec rotating(secret, {previous_secret}, issuer);
  const access_claims claims{"u-7", "grace@example.com", iat, exp};
  expect_claims(rotating.verify(jwt_codec(secret, issuer).sign(claims), iat + 60), claims);
  expect_claims(rotating.verify(jwt_codec(previous_secret, issuer).sign(claims), iat + 60), claims);
}

TEST(jwt_rotation, rejects_a_token_signed_with_a_key_that_is_neither) {
  const jwt_codec rotating(secret, {previous_secret}, issuer);
  const access_claims claims{"u-1", "ada@example.com", iat, exp};
  EXPECT_EQ(rotating.verify(jwt_codec(stranger_secret, issuer).sign(claims), iat + 60), std::nullopt);
  // Nor a hand-built one whose HMAC uses the two keys joined, or the empty key.
  EXPECT_EQ(rotating.verify(make_token(standard_header, standard_payload, secret + previous_secret), iat + 60),
            std::nullopt);
  EXPECT_EQ(rotating.verify(make_token(standard_header, standard_payload, ""), iat + 60), std::nullopt);
}

TEST(jwt_rotation, a_token_of_the_previous_key_gets_every_other_check) {
  const jwt_codec rotating(secret, {previous_secret}, issuer);
  const jwt_codec old(previous_secret, issuer);
  const access_claims claims{"u-1", "ada@example.com", iat, exp};
  EXPECT_EQ(rotating.verify(old.sign(claims), exp + 31), std::nullopt);  // expired
  EXPECT_EQ(rotating.verify(jwt_codec(previous_secret, "someone-else").sign(claims), iat + 60), std::nullopt);
  EXPECT_EQ(rotating.verify(make_token(R"({"alg":"none","typ":"JWT"})", standard_payload, previous_secret), iat + 60),
            std::nullopt);
  EXPECT_TRUE(rotating.verify(make_token(standard_header, standard_payload, previous_secret), iat + 60).has_value());
}

// What a process started before a rotation sees: it knows only the old
// key, so tokens of the new current key fail there until it is replaced.
TEST(jwt_rotation, a_codec_without_the_new_key_rejects_its_tokens) {
  const jwt_codec before(previous_secret, issuer);
  const jwt_codec after(secret, {previous_secret}, issuer);
  const access_claims claims{"u-1", "ada@example.com", iat, exp};
  EXPECT_EQ(before.verify(after.sign(claims), iat + 60), std::nullopt);
  EXPECT_TRUE(after.verify(before.sign(claims), iat + 60).has_value());
}

TEST(jwt_rotation, a_previous_key_equal_to_the_current_one_changes_nothing) {
  const jwt_codec same(secret, {secret}, issuer);
  const access_claims claims{"u-1", "ada@example.com", iat, exp};
  EXPECT_EQ(same.sign(claims), jwt_codec(secret, issuer).sign(claims));
  EXPECT_TRUE(same.verify(same.sign(claims), iat + 60).has_value());
  EXPECT_EQ(same.verify(jwt_codec(previous_secret, issuer).sign(claims), iat + 60), std::nullopt);
}

TEST(jwt_rotation, every_key_must_be_at_least_32_bytes) {
  EXPECT_THROW(jwt_codec(secret, {std::string(31, 'p')}, issuer), std::invalid_argument);
  EXPECT_THROW(jwt_codec(std::string(31, 'c'), {previous_secret}, issuer), std::invalid_argument);
  EXPECT_THROW(jwt_codec(secret, {previous_secret, ""}, issuer), std::invalid_argument);
  EXPECT_NO_THROW(jwt_codec(secret, {}, issuer));
  EXPECT_NO_THROW(jwt_codec(secret, {std::string(32, 'p')}, issuer));
}

}  // namespace
}  // namespace gatehouse::auth
