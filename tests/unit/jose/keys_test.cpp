// Keys: what loads, what is refused, the JWKs and their thumbprints.
#include "jose/jwk.hpp"
#include "jose/keys.hpp"
#include "test_keys.hpp"

#include "base/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace gatehouse::jose {
namespace {

namespace json = boost::json;
using namespace testing;

json::object object_of(std::string_view text) { return json::parse(text).as_object(); }

// The error a refused key raises: key_error, naming the reason.
std::string refusal(std::string_view pem) {
  try {
    (void)signing_key::from_pem(pem);
  } catch (const key_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "key was accepted";
  return {};
}

// RFC 7638 section 3.1: the example RSA key and its thumbprint.
TEST(jose_jwk_thumbprint, matches_rfc7638_section_3_1) {
  const auto jwk = object_of(R"({"kty":"RSA",
    "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
  EXPECT_EQ(jwk_thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(jose_jwk_thumbprint, refuses_unknown_types_and_missing_or_non_string_members) {
  EXPECT_FALSE(jwk_thumbprint(object_of(R"({"kty":"XYZ","x":"a"})")));
  EXPECT_FALSE(jwk_thumbprint(object_of(R"({"n":"a","e":"AQAB"})")));
  EXPECT_FALSE(jwk_thumbprint(object_of(R"({"kty":"RSA","n":"a"})")));
  EXPECT_FALSE(jwk_thumbprint(object_of(R"({"kty":"EC","crv":"P-256","x":"a","y":1})")));
  EXPECT_TRUE(jwk_thumbprint(object_of(R"({"kty":"oct","k":"c2VjcmV0"})")));
}

// RFC 8037 appendix A.2 (the public JWK) and A.3 (its thumbprint).
TEST(jose_signing_key, rfc8037_key_has_the_published_jwk_and_thumbprint) {
  const auto key = signing_key::from_pem(rfc8037_a1_ed25519_pkcs8);
  EXPECT_EQ(key.alg(), algorithm::eddsa);
  EXPECT_EQ(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  EXPECT_EQ(json::serialize(key.verification().public_jwk()),
            R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",)"
            R"("use":"sig","alg":"EdDSA","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"})");
}

// RFC 7515 A.2.1 / A.3.1: the JWK members are the published ones.
TEST(jose_signing_key, rfc7515_keys_give_their_published_jwk_members) {
  const auto rsa = signing_key::from_pem(rfc7515_a2_rsa_pkcs8).verification().public_jwk();
  EXPECT_EQ(rsa.at("kty"), "RSA");
  EXPECT_EQ(rsa.at("e"), "AQAB");
  EXPECT_EQ(rsa.at("n"),
            "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
            "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
            "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
            "DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ");
  EXPECT_EQ(rsa.at("alg"), "RS256");
  EXPECT_EQ(rsa.at("use"), "sig");
  EXPECT_EQ(rsa.at("kid").as_string(), jwk_thumbprint(rsa).value());

  const auto ec = signing_key::from_pem(rfc7515_a3_ec_pkcs8).verification().public_jwk();
  EXPECT_EQ(ec.at("kty"), "EC");
  EXPECT_EQ(ec.at("crv"), "P-256");
  EXPECT_EQ(ec.at("x"), "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
  EXPECT_EQ(ec.at("y"), "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  EXPECT_EQ(ec.at("alg"), "ES256");
  EXPECT_EQ(ec.at("kid").as_string(), jwk_thumbprint(ec).value());
}

TEST(jose_signing_key, reads_the_traditional_pem_forms_as_the_same_keys) {
  EXPECT_EQ(signing_key::from_pem(rfc7515_a2_rsa_pkcs1).kid(), signing_key::from_pem(rfc7515_a2_rsa_pkcs8).kid());
  EXPECT_EQ(signing_key::from_pem(rfc7515_a3_ec_sec1).kid(), signing_key::from_pem(rfc7515_a3_ec_pkcs8).kid());
  EXPECT_EQ(verification_key::from_public_pem(rfc7515_a3_ec_public).kid(),
            signing_key::from_pem(rfc7515_a3_ec_pkcs8).kid());
}

TEST(jose_signing_key, infers_each_algorithm_and_round_trips_through_pkcs8) {
  for (const algorithm alg : {algorithm::rs256, algorithm::es256, algorithm::eddsa}) {
    SCOPED_TRACE(std::string(name_of(alg)));
    const auto key = signing_key::generate(alg);
    EXPECT_EQ(key.alg(), alg);
    EXPECT_EQ(key.kid().size(), 43u);  // base64url of a SHA-256 digest
    const std::string pem = key.to_pkcs8_pem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    const auto again = signing_key::from_pem(pem);
    EXPECT_EQ(again.alg(), alg);
    EXPECT_EQ(again.kid(), key.kid());
    EXPECT_TRUE(again.verification().verify("input", key.sign("input")));
    // The verification key's PEM holds the public half only.
    const std::string public_pem = key.verification().public_pem();
    EXPECT_EQ(public_pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    EXPECT_EQ(verification_key::from_public_pem(public_pem).kid(), key.kid());
    EXPECT_THROW((void)signing_key::from_pem(public_pem), key_error);
  }
  const auto hs = signing_key::generate(algorithm::hs256);
  EXPECT_EQ(hs.alg(), algorithm::hs256);
  EXPECT_TRUE(hs.kid().empty());
  EXPECT_TRUE(hs.verification().public_jwk().empty());
  EXPECT_THROW((void)hs.to_pkcs8_pem(), key_error);
}

TEST(jose_signing_key, refuses_rsa_under_2048_bits) {
  EXPECT_NE(refusal(rsa_1024_pkcs8).find("1024 bits"), std::string::npos);
}

TEST(jose_signing_key, refuses_curves_other_than_p256_and_ed448) {
  EXPECT_NE(refusal(p384_pkcs8).find("P-256"), std::string::npos);
  EXPECT_NE(refusal(ed448_pkcs8).find("unsupported key type"), std::string::npos);
}

TEST(jose_signing_key, refuses_garbage_empty_truncated_and_oversized_pem) {
  refusal("");
  refusal("not a key");
  const std::string_view pem = rfc7515_a2_rsa_pkcs8;
  refusal(pem.substr(0, pem.size() / 2));
  refusal(std::string(17 * 1024, 'A'));
  EXPECT_THROW((void)verification_key::from_public_pem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
               key_error);
}

TEST(jose_signing_key, refuses_encrypted_pem_without_prompting) {
  refusal(encrypted_ed25519_pkcs8);
}

TEST(jose_signing_key, hmac_secrets_must_be_32_bytes) {
  EXPECT_THROW((void)signing_key::hmac(std::string(31, 'k')), key_error);
  EXPECT_THROW((void)verification_key::hmac(""), key_error);
  const auto key = signing_key::hmac(std::string(32, 'k'));
  EXPECT_EQ(key.sign("x").size(), 32u);
  EXPECT_TRUE(key.verification().verify("x", key.sign("x")));
  EXPECT_FALSE(key.verification().verify("y", key.sign("x")));
}

}  // namespace
}  // namespace gatehouse::jose
