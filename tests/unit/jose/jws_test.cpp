// Compact JWS: the published vectors, round trips for every algorithm, and
// the forgeries and malformed tokens the verifier refuses.
#include "jose/jws.hpp"
#include "token_surgery.hpp"
#include "test_keys.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <array>

namespace gatehouse::jose {
namespace {

using namespace testing;
using crypto::base64url_decode;
using crypto::base64url_encode;

const std::vector<algorithm> all_algorithms = {algorithm::rs256, algorithm::es256, algorithm::eddsa,
                                               algorithm::hs256};


// The payload of RFC 7515 appendices A.1 to A.3, CR LF and all.
const std::string rfc7515_payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
constexpr std::string_view rfc7515_payload_segment =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// RFC 7515 appendix A.2.1: RS256 is deterministic, so the exact token.
TEST(jose_jws_vectors, rfc7515_a2_rs256_is_reproduced_and_verifies) {
  const auto key = signing_key::from_pem(rfc7515_a2_rsa_pkcs8);
  const std::string expected =
      "eyJhbGciOiJSUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZc"
      "AcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eO"
      "kHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
  EXPECT_EQ(sign_compact(key, R"({"alg":"RS256"})", rfc7515_payload), expected);
  // A set of one key needs no kid.
  const auto result = verifier({key.verification()}).verify(expected);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.token().payload, rfc7515_payload);
  EXPECT_EQ(result.token().alg, algorithm::rs256);
}

// RFC 7515 appendix A.3: ECDSA is randomized, so the published token is verified.
TEST(jose_jws_vectors, rfc7515_a3_es256_published_token_verifies) {
  const std::string published =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  const verifier v({verification_key::from_public_pem(rfc7515_a3_ec_public)});
  const auto result = v.verify(published);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.token().payload, rfc7515_payload);
  // One bit of the payload changed, and it is not.
  std::string tampered = published;
  tampered[30] = tampered[30] == 'A' ? 'B' : 'A';
  EXPECT_EQ(v.verify(tampered).why(), rejection::bad_signature);
}

// RFC 8037 appendix A.4 (signing, exact: Ed25519 is deterministic) and A.5.
TEST(jose_jws_vectors, rfc8037_a4_ed25519_is_reproduced_and_verifies) {
  const auto key = signing_key::from_pem(rfc8037_a1_ed25519_pkcs8);
  const std::string expected =
      "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  EXPECT_EQ(sign_compact(key, R"({"alg":"EdDSA"})", "Example of Ed25519 signing"), expected);
  const auto result = verifier({key.verification()}).verify(expected);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.token().payload, "Example of Ed25519 signing");
}

TEST(jose_jws_signer, writes_alg_kid_and_typ_and_every_algorithm_round_trips) {
  for (const algorithm alg : all_algorithms) {
    SCOPED_TRACE(std::string(name_of(alg)));
    const signer s(signing_key::generate(alg));
    const std::string payload = R"({"sub":"u1","exp":2000000000})";
    const std::string token = s.sign("at+jwt", payload);
    const std::string header = base64url_decode(segment(token, 0)).value();
    if (is_asymmetric(alg))
      EXPECT_EQ(header, R"({"alg":")" + std::string(name_of(alg)) + R"(","kid":")" + s.key().kid() +
                            R"(","typ":"at+jwt"})");
    else
      EXPECT_EQ(header, R"({"alg":"HS256","typ":"at+jwt"})");
    const auto result = verifier({s.key().verification()}).verify(token);
    ASSERT_TRUE(result) << static_cast<int>(result.why());
    EXPECT_EQ(result.token().payload, payload);
    EXPECT_EQ(result.token().typ, "at+jwt");
    EXPECT_EQ(result.token().alg, alg);
    EXPECT_EQ(result.token().kid, s.key().kid());
    EXPECT_EQ(base64url_decode(segment(token, 2))->size(),
              alg == algorithm::rs256 ? 256u : alg == algorithm::hs256 ? 32u : 64u);
  }
}

TEST(jose_jws_verifier, accepts_the_current_and_the_previous_key_and_picks_by_kid) {
  const auto current = signing_key::generate(algorithm::es256);
  const auto previous = signing_key::generate(algorithm::rs256);
  const verifier v({current.verification(), previous.verification()});
  EXPECT_TRUE(v.verify(signer(current).sign("at+jwt", "{}")));
  EXPECT_TRUE(v.verify(signer(previous).sign("at+jwt", "{}")));
  // A third key's token is unknown; one that claims a known kid does not verify.
  const auto stranger = signing_key::generate(algorithm::es256);
  EXPECT_EQ(v.verify(signer(stranger).sign("at+jwt", "{}")).why(), rejection::unknown_key);
  const std::string header = R"({"alg":"ES256","kid":")" + current.kid() + R"("})";
  EXPECT_EQ(v.verify(sign_compact(stranger, header, "{}")).why(), rejection::bad_signature);
}

TEST(jose_jws_verifier, needs_a_kid_for_an_asymmetric_token_when_the_set_has_more_than_one_key) {
  const auto a = signing_key::generate(algorithm::eddsa);
  const auto b = signing_key::generate(algorithm::eddsa);
  const std::string no_kid = sign_compact(a, R"({"alg":"EdDSA"})", "{}");
  EXPECT_TRUE(verifier({a.verification()}).verify(no_kid));
  EXPECT_EQ(verifier({a.verification(), b.verification()}).verify(no_kid).why(), rejection::unknown_key);
}

TEST(jose_jws_verifier, checks_hs256_against_every_secret_and_refuses_a_kid_for_it) {
  const auto current = signing_key::hmac(std::string(32, 'c'));
  const auto previous = signing_key::hmac(std::string(40, 'p'));
  const verifier v({current.verification(), previous.verification()});
  EXPECT_TRUE(v.verify(signer(current).sign("JWT", "{}")));
  EXPECT_TRUE(v.verify(signer(previous).sign("", "{}")));
  EXPECT_EQ(v.verify(signer(signing_key::hmac(std::string(32, 'x'))).sign("JWT", "{}")).why(),
            rejection::bad_signature);
  EXPECT_EQ(v.verify(sign_compact(current, R"({"alg":"HS256","kid":""})", "{}")).why(), rejection::unknown_key);
  EXPECT_EQ(v.verify(sign_compact(current, R"({"alg":"HS256","kid":"k"})", "{}")).why(), rejection::unknown_key);
}

TEST(jose_jws_verifier, refuses_alg_none_in_any_spelling) {
  const auto key = signing_key::generate(algorithm::rs256);
  const verifier v({key.verification()});
  for (const std::string alg : {"none", "None", "NONE", "", "rs256", "RS512", "PS256", "ES384"}) {
    const std::string header = base64url_encode(R"({"alg":")" + alg + R"(","kid":")" + key.kid() + R"("})");
    const std::string body = header + "." + base64url_encode("{}");
    EXPECT_EQ(v.verify(body + ".").why(), rejection::unsupported_alg) << alg;
    EXPECT_EQ(v.verify(body + "." + base64url_encode(key.sign(body))).why(), rejection::unsupported_alg) << alg;
  }
}

// The classic key confusion: an HS256 token whose HMAC secret is the RSA
// public key, which any client can fetch from the JWKS.
TEST(jose_jws_verifier, refuses_hs256_keyed_with_the_public_key) {
  for (const algorithm alg : {algorithm::rs256, algorithm::es256, algorithm::eddsa}) {
    SCOPED_TRACE(std::string(name_of(alg)));
    const auto key = signing_key::generate(alg);
    const auto& pub = key.verification();
    for (const std::string& secret : {pub.public_pem(), pub.public_der()}) {
      const auto forger = signing_key::hmac(secret);
      const verifier alone({pub});
      const std::string with_kid = R"({"alg":"HS256","kid":")" + key.kid() + R"(","typ":"at+jwt"})";
      EXPECT_EQ(alone.verify(sign_compact(forger, with_kid, "{}")).why(), rejection::alg_mismatch);
      EXPECT_EQ(alone.verify(sign_compact(forger, R"({"alg":"HS256"})", "{}")).why(), rejection::alg_mismatch);
      // Even beside a legacy HS256 secret, the public key is no HMAC key.
      const verifier with_legacy({pub, verification_key::hmac(std::string(32, 'L'))});
      EXPECT_EQ(with_legacy.verify(sign_compact(forger, R"({"alg":"HS256"})", "{}")).why(),
                rejection::bad_signature);
      EXPECT_EQ(with_legacy.verify(sign_compact(forger, with_kid, "{}")).why(), rejection::alg_mismatch);
    }
  }
}

TEST(jose_jws_verifier, refuses_another_asymmetric_alg_for_the_key) {
  const auto rsa = signing_key::generate(algorithm::rs256);
  const std::string header = R"({"alg":"ES256","kid":")" + rsa.kid() + R"("})";
  EXPECT_EQ(verifier({rsa.verification()}).verify(sign_compact(rsa, header, "{}")).why(), rejection::alg_mismatch);
  EXPECT_EQ(verifier({rsa.verification()}).verify(sign_compact(rsa, R"({"alg":"EdDSA"})", "{}")).why(),
            rejection::alg_mismatch);
}

TEST(jose_jws_verifier, refuses_crit_and_headers_that_are_not_objects_of_strings) {
  const auto key = signing_key::generate(algorithm::eddsa);
  const verifier v({key.verification()});
  EXPECT_EQ(v.verify(sign_compact(key, R"({"alg":"EdDSA","crit":["exp"],"exp":1})", "{}")).why(),
            rejection::critical_header);
  EXPECT_EQ(v.verify(sign_compact(key, R"({"alg":"EdDSA","b64":false,"crit":["b64"]})", "{}")).why(),
            rejection::critical_header);
  for (const std::string header : {R"([])", R"("EdDSA")", R"({"alg":1})", R"({})", R"({"alg":"EdDSA","kid":7})",
                                   R"({"alg":"EdDSA","typ":null})", R"({"alg":"EdDSA")", "",
                                   R"({"alg":"EdDSA","x":[[[[[[[[[[1]]]]]]]]]]})"})
    EXPECT_EQ(v.verify(sign_compact(key, header, "{}")).why(), rejection::bad_header) << header;
  // Duplicate members: the last one counts (as in JSON.parse, so in jose).
  EXPECT_TRUE(v.verify(sign_compact(key, R"({"alg":"none","alg":"EdDSA"})", "{}")));
  EXPECT_EQ(v.verify(sign_compact(key, R"({"alg":"EdDSA","alg":"none"})", "{}")).why(), rejection::unsupported_alg);
  const std::string long_kid = R"({"alg":"EdDSA","kid":")" + std::string(300, 'k') + R"("})";
  EXPECT_EQ(v.verify(sign_compact(key, long_kid, "{}")).why(), rejection::bad_header);
}

TEST(jose_jws_verifier, refuses_wrong_segment_counts_bad_base64url_and_oversized_tokens) {
  const auto key = signing_key::generate(algorithm::es256);
  const verifier v({key.verification()});
  const std::string good = signer(key).sign("at+jwt", "{}");
  ASSERT_TRUE(v.verify(good));
  const std::string h = segment(good, 0), p = segment(good, 1), s = segment(good, 2);
  for (const std::string& bad : {std::string(), std::string("."), std::string(".."), h, h + "." + p,
                                 good + ".", good + "." + s, "." + p + "." + s, h + "=." + p + "." + s,
                                 h + "." + p + "=." + s, good + "=", h + "." + p + "." + s + "==",
                                 h + ".e30+." + s, h + "." + p + "." + s.substr(1) + "/", h + " ." + p + "." + s})
    EXPECT_FALSE(v.verify(bad)) << bad;
  EXPECT_EQ(v.verify(h + "." + p + ".").why(), rejection::bad_signature);
  // Non-canonical base64url (leftover bits set) is refused, not decoded to the same bytes.
  std::string sloppy = s;
  sloppy.back() = sloppy.back() == 'A' ? 'B' : static_cast<char>(sloppy.back() + 1);
  EXPECT_FALSE(v.verify(h + "." + p + "." + sloppy));

  const std::string big_payload(6000, 'x');
  const std::string big = signer(key).sign("at+jwt", big_payload);
  ASSERT_GT(big.size(), max_token_bytes);
  EXPECT_EQ(v.verify(big).why(), rejection::malformed);
  EXPECT_TRUE(v.verify(signer(key).sign("at+jwt", std::string(5000, 'x'))));
}

// 32-byte big-endian subtraction, for n - s.
std::string minus(std::string_view a, std::string_view b) {
  std::string out(32, '\0');
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]) - borrow;
    borrow = d < 0;
    out[i] = static_cast<char>(d + (borrow ? 256 : 0));
  }
  return out;
}

TEST(jose_jws_verifier, es256_signatures_are_exactly_64_bytes_with_r_and_s_in_range) {
  const auto key = signing_key::generate(algorithm::es256);
  const verifier v({key.verification()});
  const std::string token = signer(key).sign("at+jwt", "{}");
  const std::string raw = base64url_decode(segment(token, 2)).value();
  ASSERT_EQ(raw.size(), 64u);
  const std::string r = raw.substr(0, 32), s = raw.substr(32);
  const std::string n = base64url_decode("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE").value();
  const std::string zero(32, '\0'), all_ones(32, '\xff');
  ASSERT_EQ(n.size(), 32u);

  EXPECT_EQ(v.verify(with_signature(token, raw.substr(0, 63))).why(), rejection::bad_signature);
  EXPECT_EQ(v.verify(with_signature(token, raw + '\0')).why(), rejection::bad_signature);
  EXPECT_EQ(v.verify(with_signature(token, '\0' + raw)).why(), rejection::bad_signature);
  for (const std::string& forged : {zero + s, r + zero, zero + zero, n + s, r + n, all_ones + s, r + all_ones})
    EXPECT_EQ(v.verify(with_signature(token, forged)).why(), rejection::bad_signature);

  // OpenSSL's DER form of the same signature is not a JWS signature.
  std::string der = "\x30";
  auto integer = [](std::string_view x) {
    std::size_t i = 0;
    while (i + 1 < x.size() && x[i] == '\0') ++i;
    std::string v(x.substr(i));
    if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
    return std::string("\x02") + static_cast<char>(v.size()) + v;
  };
  const std::string body = integer(r) + integer(s);
  der += static_cast<char>(body.size());
  der += body;
  EXPECT_EQ(v.verify(with_signature(token, der)).why(), rejection::bad_signature);

  // A high S (n - s) is the same signature to ECDSA; RFC 7518 does not ask
  // for low S, and jose accepts it, so it is accepted here too.
  EXPECT_TRUE(v.verify(with_signature(token, r + minus(n, s))));
}

TEST(jose_jws_verifier, eddsa_and_rs256_signatures_of_the_wrong_length_are_refused) {
  for (const algorithm alg : {algorithm::eddsa, algorithm::rs256, algorithm::hs256}) {
    const auto key = signing_key::generate(alg);
    const verifier v({key.verification()});
    const std::string token = signer(key).sign("at+jwt", "{}");
    const std::string raw = base64url_decode(segment(token, 2)).value();
    EXPECT_EQ(v.verify(with_signature(token, raw.substr(1))).why(), rejection::bad_signature);
    EXPECT_EQ(v.verify(with_signature(token, raw + '\0')).why(), rejection::bad_signature);
    EXPECT_EQ(v.verify(with_signature(token, '\0' + raw)).why(), rejection::bad_signature);
  }
}

// Every one-character change to a valid token is refused, and nothing throws.
TEST(jose_jws_verifier, every_single_character_mutation_is_refused) {
  for (const algorithm alg : all_algorithms) {
    const auto key = signing_key::generate(alg);
    const verifier v({key.verification()});
    const std::string token = signer(key).sign("at+jwt", R"({"sub":"u"})");
    for (std::size_t i = 0; i < token.size(); ++i)
      for (const char c : {'A', '.', '-', '\0', '\xff'}) {
        if (token[i] == c) continue;
        std::string mutated = token;
        mutated[i] = c;
        EXPECT_FALSE(v.verify(mutated)) << name_of(alg) << " at " << i;
      }
  }
}

TEST(jose_jws_verifier, refuses_empty_sets_and_duplicate_kids) {
  EXPECT_THROW(verifier({}), key_error);
  const auto key = signing_key::generate(algorithm::eddsa);
  EXPECT_THROW(verifier({key.verification(), key.verification()}), key_error);
}

}  // namespace
}  // namespace gatehouse::jose
