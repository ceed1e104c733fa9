// Access tokens as the contract has them: what is signed (header and
// claims), which keys verify (the current, the previous, the v1 secret, the
// Node.js original's), what is published, and one test per attack the
// issue names: algorithm confusion, `none`, a kid outside the set, a
// legacy key used to mint a token with our issuer's rights.
#include "auth/access_tokens.hpp"

#include "../jose/test_keys.hpp"
#include "../jose/token_surgery.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace gatehouse::auth {
namespace {

namespace json = boost::json;
using jose::algorithm;
using jose::signing_key;
using jose::verification_key;

const std::string issuer = "https://auth.example";
constexpr std::int64_t now = 1'800'000'000;
const std::string v1_secret = "v1-secret-0123456789abcdef0123456789";
const std::string node_secret = "node-secret-0123456789abcdef01234567";

signing_key rsa() { return signing_key::from_pem(jose::testing::rfc7515_a2_rsa_pkcs8); }
signing_key ec() { return signing_key::from_pem(jose::testing::rfc7515_a3_ec_pkcs8); }
signing_key ed() { return signing_key::from_pem(jose::testing::rfc8037_a1_ed25519_pkcs8); }

access_claims ada() {
  access_claims c;
  c.user_id = "u-1";
  c.email = "ada@example.com";
  c.issued_at = now;
  c.expires_at = now + 900;
  c.session_id = "s-1";
  return c;
}

access_tokens tokens_of(signing_key key, std::vector<verification_key> previous = {},
                        std::optional<verification_key> legacy = std::nullopt,
                        std::optional<std::string> audience = std::nullopt) {
  return access_tokens(token_keys{std::move(key), std::move(previous), std::move(legacy)},
                       token_settings{.issuer = issuer, .audience = std::move(audience)});
}

json::object decoded(const std::string& token, int part) {
  return json::parse(*crypto::base64url_decode(jose::testing::segment(token, part))).as_object();
}

// header.payload.HMAC-SHA256(key): any JSON, signed as an HS256 issuer would.
std::string hs256_token(const std::string& header, const std::string& payload, const std::string& key) {
  return jose::sign_compact(signing_key::hmac(key), header, payload);
}

std::string claims_json(const std::string& extra, std::int64_t exp = now + 900) {
  return R"({"userId":"u-1","email":"ada@example.com","iat":)" + std::to_string(now) + R"(,"exp":)" +
         std::to_string(exp) + extra + "}";
}

TEST(access_tokens, signs_the_contracts_header_and_claims_with_each_algorithm) {
  for (auto key : {rsa(), ec(), ed(), signing_key::hmac(v1_secret)}) {
    SCOPED_TRACE(std::string(jose::name_of(key.alg())));
    const auto tokens = tokens_of(key, {}, std::nullopt, "api");
    const std::string token = tokens.sign(ada());
    const auto header = decoded(token, 0);
    EXPECT_EQ(header.at("alg").as_string(), jose::name_of(key.alg()));
    EXPECT_EQ(header.at("typ"), "at+jwt");
    if (jose::is_asymmetric(key.alg())) EXPECT_EQ(header.at("kid").as_string(), key.kid());
    else EXPECT_FALSE(header.contains("kid"));  // an HS256 secret is never named

    const auto claims = decoded(token, 1);
    EXPECT_EQ(claims.at("iss").as_string(), issuer);
    EXPECT_EQ(claims.at("sub"), "u-1");
    EXPECT_EQ(claims.at("userId"), "u-1");
    EXPECT_EQ(claims.at("email"), "ada@example.com");
    EXPECT_EQ(claims.at("aud"), "api");
    EXPECT_EQ(claims.at("iat"), now);
    EXPECT_EQ(claims.at("exp"), now + 900);
    EXPECT_EQ(claims.at("sid"), "s-1");
    EXPECT_EQ(claims.at("role"), "user");
    EXPECT_EQ(claims.at("jti").as_string().size(), 22u);  // 128 random bits

    const auto back = tokens.verify(token, now + 60);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->user_id, "u-1");
    EXPECT_EQ(back->email, "ada@example.com");
    EXPECT_EQ(back->session_id, "s-1");
    EXPECT_EQ(back->role, "user");
    EXPECT_EQ(back->token_id, claims.at("jti").as_string());
    EXPECT_EQ(back->expires_at, now + 900);
  }
}

TEST(access_tokens, every_token_has_its_own_jti) {
  const auto tokens = tokens_of(ec());
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(std::string(decoded(tokens.sign(ada()), 1).at("jti").as_string()));
  EXPECT_EQ(ids.size(), 50u);
}

TEST(access_tokens, the_jwks_holds_the_public_keys_that_verify_and_never_a_secret) {
  const auto tokens = tokens_of(rsa(), {ec().verification(), verification_key::hmac(v1_secret)});
  const auto& keys = tokens.jwks().at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("kid").as_string(), rsa().kid());
  EXPECT_EQ(keys[0].at("alg"), "RS256");
  EXPECT_EQ(keys[0].at("use"), "sig");
  EXPECT_FALSE(keys[0].as_object().contains("d"));  // no private member
  EXPECT_EQ(keys[1].at("kid").as_string(), ec().kid());
  const std::string text = json::serialize(tokens.jwks());
  EXPECT_EQ(text.find(crypto::base64url_encode(v1_secret)), std::string::npos);
  EXPECT_EQ(text.find("oct"), std::string::npos);

  EXPECT_TRUE(tokens_of(signing_key::hmac(v1_secret)).jwks().at("keys").as_array().empty());
}

TEST(access_tokens, a_rotated_out_key_still_verifies_its_tokens_and_an_unknown_one_does_not) {
  const std::string old_token = tokens_of(ec()).sign(ada());
  EXPECT_TRUE(tokens_of(rsa(), {ec().verification()}).verify(old_token, now));
  EXPECT_FALSE(tokens_of(rsa()).verify(old_token, now));  // dropped at the next rotation
  EXPECT_FALSE(tokens_of(rsa(), {ed().verification()}).verify(old_token, now));
}

// The algorithm-confusion attack: the RSA public key (which anyone can
// fetch from the JWKS) used as an HMAC secret, with the header saying HS256.
TEST(access_tokens, refuses_an_hs256_token_made_with_the_rsa_public_key_as_its_secret) {
  const auto tokens = tokens_of(rsa(), {verification_key::hmac(v1_secret)});
  const std::string payload = json::serialize(decoded(tokens.sign(ada()), 1));
  for (const std::string& secret : {rsa().verification().public_pem(), rsa().verification().public_der()}) {
    EXPECT_FALSE(tokens.verify(hs256_token(R"({"alg":"HS256","typ":"at+jwt"})", payload, secret), now));
    EXPECT_FALSE(tokens.verify(
        hs256_token(R"({"alg":"HS256","typ":"at+jwt","kid":")" + rsa().kid() + "\"}", payload, secret), now));
  }
}

TEST(access_tokens, refuses_alg_none_and_an_alg_that_is_not_the_kids) {
  const auto tokens = tokens_of(rsa(), {ec().verification()});
  const std::string good = tokens.sign(ada());
  const std::string payload = jose::testing::segment(good, 1);
  const std::string none = crypto::base64url_encode(R"({"alg":"none","typ":"at+jwt"})") + "." + payload + ".";
  EXPECT_FALSE(tokens.verify(none, now));
  // The RSA key's kid with ES256 in the header, signed by the EC key.
  const std::string mixed = jose::sign_compact(
      ec(), R"({"alg":"ES256","typ":"at+jwt","kid":")" + rsa().kid() + "\"}", *crypto::base64url_decode(payload));
  EXPECT_FALSE(tokens.verify(mixed, now));
  // The positive control: the same forgery with the EC key's own kid verifies.
  const std::string honest = jose::sign_compact(
      ec(), R"({"alg":"ES256","typ":"at+jwt","kid":")" + ec().kid() + "\"}", *crypto::base64url_decode(payload));
  EXPECT_TRUE(tokens.verify(honest, now));
}

TEST(access_tokens, applies_the_claim_rules_of_the_contract) {
  const auto tokens = tokens_of(ec(), {}, std::nullopt, "api");
  const std::string token = tokens.sign(ada());
  EXPECT_TRUE(tokens.verify(token, now + 900 + 30));
  EXPECT_FALSE(tokens.verify(token, now + 900 + 31));  // past exp and the leeway
  EXPECT_FALSE(tokens.verify(token, now - 31));        // iat in the future
  // Another issuer or audience configured: the same bytes are refused.
  const auto other = [&](std::string iss, std::optional<std::string> aud) {
    return access_tokens(token_keys{ec(), {}, std::nullopt}, token_settings{.issuer = iss, .audience = aud});
  };
  EXPECT_FALSE(other("https://other.example", "api").verify(token, now));
  EXPECT_FALSE(other(issuer, "another-api").verify(token, now));
  EXPECT_TRUE(other(issuer, std::nullopt).verify(token, now));
  // With an audience required, a token without aud is refused.
  EXPECT_FALSE(tokens.verify(tokens_of(ec()).sign(ada()), now));
}

// Claims a signer of ours would never write, checked anyway: signed by the
// real key, so each is refused for what it says and not by the signature.
TEST(access_tokens, refuses_claims_that_are_not_ours_even_when_signed_by_our_key) {
  const auto tokens = tokens_of(ec());
  const auto signed_with = [&](const std::string& extra) {
    return jose::sign_compact(ec(), R"({"alg":"ES256","typ":"at+jwt","kid":")" + ec().kid() + "\"}",
                              claims_json(R"(,"iss":")" + issuer + "\"" + extra));
  };
  EXPECT_TRUE(tokens.verify(signed_with(R"(,"sub":"u-1")"), now));  // the control
  EXPECT_FALSE(tokens.verify(signed_with(R"(,"sub":"u-2")"), now));  // sub and userId disagree
  EXPECT_FALSE(tokens.verify(signed_with(R"(,"sub":7)"), now));
  EXPECT_FALSE(tokens.verify(signed_with(R"(,"sub":"u-1","role":["admin"])"), now));
  EXPECT_FALSE(tokens.verify(signed_with(R"(,"sub":"u-1","sid":"")"), now));
  const auto no_role = tokens.verify(signed_with(R"(,"sub":"u-1")"), now);
  ASSERT_TRUE(no_role);
  EXPECT_EQ(no_role->role, "user");  // v1 tokens carry none
  EXPECT_EQ(no_role->session_id, "");
}

// The upgrade from v1: its HS256 tokens (typ JWT, our issuer) verify
// against the v1 secret kept as a previous key; nothing new is signed with it.
TEST(access_tokens, a_v1_secret_kept_beside_an_asymmetric_key_verifies_v1_tokens) {
  const std::string v1_token =
      hs256_token(R"({"alg":"HS256","typ":"JWT"})", claims_json(R"(,"sub":"u-1","iss":")" + issuer + "\""), v1_secret);
  const auto upgraded = tokens_of(rsa(), {verification_key::hmac(v1_secret)});
  EXPECT_TRUE(upgraded.verify(v1_token, now));
  EXPECT_EQ(decoded(upgraded.sign(ada()), 0).at("alg"), "RS256");
  EXPECT_FALSE(tokens_of(rsa()).verify(v1_token, now));
  EXPECT_FALSE(upgraded.verify(hs256_token(R"({"alg":"HS256","typ":"JWT"})",
                                           claims_json(R"(,"sub":"u-1","iss":")" + issuer + "\""), node_secret),
                               now));
}

// LEGACY_JWT_SECRET: the Node.js original's tokens ({userId, email, iat,
// exp}, no iss) until they expire; one that carries an iss or aud must carry ours.
TEST(access_tokens, the_legacy_secret_accepts_the_originals_tokens_under_every_other_rule) {
  const auto tokens = tokens_of(rsa(), {}, verification_key::hmac(node_secret), "api");
  const std::string original = R"({"alg":"HS256","typ":"JWT"})";
  const auto accepted = tokens.verify(hs256_token(original, claims_json(""), node_secret), now);
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->user_id, "u-1");
  EXPECT_EQ(accepted->role, "user");

  EXPECT_FALSE(tokens.verify(hs256_token(original, claims_json("", now - 31), node_secret), now));  // expired
  EXPECT_FALSE(tokens.verify(hs256_token(original, claims_json(""), v1_secret), now));  // another secret
  EXPECT_FALSE(tokens.verify(hs256_token(original, claims_json(R"(,"iss":"https://evil.example")"), node_secret), now));
  EXPECT_FALSE(tokens.verify(hs256_token(original, claims_json(R"(,"aud":"other")"), node_secret), now));
  EXPECT_TRUE(tokens.verify(hs256_token(original, claims_json(R"(,"iss":")" + issuer + R"(","aud":"api")"), node_secret),
                            now));
  EXPECT_FALSE(tokens.verify(hs256_token(R"({"alg":"HS256","typ":"secevent+jwt"})", claims_json(""), node_secret), now));
  // Without the setting, the same token is nobody's.
  EXPECT_FALSE(tokens_of(rsa(), {}, std::nullopt, "api").verify(hs256_token(original, claims_json(""), node_secret), now));
}

TEST(access_tokens, a_cached_token_still_expires_and_the_cache_stays_correct_when_full) {
  // 16 entries in all: one per shard, so nearly every put evicts.
  const access_tokens tokens(token_keys{ec(), {}, std::nullopt},
                             token_settings{.issuer = issuer, .cache_entries = 16});
  std::vector<std::string> issued;
  for (int i = 0; i < 100; ++i) {
    auto c = ada();
    c.user_id = "u-" + std::to_string(i);
    issued.push_back(tokens.sign(c));
  }
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 100; ++i) {
      const auto got = tokens.verify(issued[i], now);
      ASSERT_TRUE(got) << i;
      EXPECT_EQ(got->user_id, "u-" + std::to_string(i));
    }
  EXPECT_FALSE(tokens.verify(issued[99], now + 900 + 31));  // held, and still refused once expired
  EXPECT_FALSE(tokens.verify(issued[99], now - 31));        // or before its iat (a clock set back)
  // A forged token is refused however often its genuine original was seen.
  const std::string forged = jose::testing::with_signature(issued[0], std::string(64, '\1'));
  EXPECT_FALSE(tokens.verify(forged, now));
}

// Worker threads verify at once: the cache's shards must keep every answer
// right (and TSan, in make test-tsan, finds no race) while entries are
// evicted under them.
TEST(access_tokens, threads_verifying_at_once_through_a_small_cache_all_get_the_right_claims) {
  const access_tokens tokens(token_keys{signing_key::hmac(v1_secret), {}, std::nullopt},
                             token_settings{.issuer = issuer, .cache_entries = 32});
  std::vector<std::string> issued;
  for (int i = 0; i < 64; ++i) {
    auto c = ada();
    c.user_id = "u-" + std::to_string(i);
    issued.push_back(tokens.sign(c));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (round * 7 + t * 13) % 64;
        const auto got = tokens.verify(issued[i], now);
        if (!got || got->user_id != "u-" + std::to_string(i)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace gatehouse::auth
