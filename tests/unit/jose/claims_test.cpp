// The access-token claim rules of API.md, on payloads the verifier passed.
#include "jose/claims.hpp"

#include <gtest/gtest.h>

namespace gatehouse::jose {
namespace {

constexpr std::int64_t now = 1'800'000'000;

verified_token token(std::string payload, std::string typ = "at+jwt") {
  return verified_token{std::move(payload), std::move(typ), algorithm::rs256, "kid"};
}

claim_rules rules(std::optional<std::string> audience = std::nullopt) {
  claim_rules r;
  r.issuer = "https://gatehouse.example";
  r.audience = std::move(audience);
  return r;
}

std::string claims(std::int64_t exp, std::string extra = R"("iss":"https://gatehouse.example")") {
  return "{\"sub\":\"u1\",\"exp\":" + std::to_string(exp) + (extra.empty() ? "" : "," + extra) + "}";
}

TEST(jose_check_claims, accepts_a_live_token_and_returns_its_claims) {
  const auto result = check_claims(token(claims(now + 900)), now, rules());
  ASSERT_TRUE(result);
  EXPECT_EQ(result.claims().at("sub"), "u1");
}

TEST(jose_check_claims, exp_is_required_and_allowed_30_seconds_of_leeway) {
  EXPECT_TRUE(check_claims(token(claims(now - 30)), now, rules()));
  EXPECT_EQ(check_claims(token(claims(now - 31)), now, rules()).why(), claim_failure::expired);
  EXPECT_EQ(check_claims(token(R"({"iss":"https://gatehouse.example"})"), now, rules()).why(),
            claim_failure::expired);
  for (const std::string exp : {"\"1900000000\"", "1.9e9", "1900000000.0", "null", "18446744073709551615"})
    EXPECT_EQ(check_claims(token(R"({"iss":"https://gatehouse.example","exp":)" + exp + "}"), now, rules()).why(),
              claim_failure::expired)
        << exp;
  // exp near the integer limit does not overflow into the past.
  EXPECT_TRUE(check_claims(token(claims(9'223'372'036'854'775'807)), now, rules()));
}

TEST(jose_check_claims, iat_and_nbf_may_not_be_in_the_future) {
  const std::string iss = R"("iss":"https://gatehouse.example")";
  EXPECT_TRUE(check_claims(token(claims(now + 900, iss + ",\"iat\":" + std::to_string(now + 30))), now, rules()));
  EXPECT_EQ(check_claims(token(claims(now + 900, iss + ",\"iat\":" + std::to_string(now + 31))), now, rules()).why(),
            claim_failure::not_yet_valid);
  EXPECT_EQ(check_claims(token(claims(now + 900, iss + ",\"nbf\":" + std::to_string(now + 60))), now, rules()).why(),
            claim_failure::not_yet_valid);
  EXPECT_EQ(check_claims(token(claims(now + 900, iss + R"(,"iat":"yesterday")")), now, rules()).why(),
            claim_failure::not_yet_valid);
}

TEST(jose_check_claims, iss_must_be_ours_unless_no_issuer_is_required) {
  EXPECT_EQ(check_claims(token(claims(now + 900, R"("iss":"https://evil.example")")), now, rules()).why(),
            claim_failure::wrong_issuer);
  EXPECT_EQ(check_claims(token(claims(now + 900, "")), now, rules()).why(), claim_failure::wrong_issuer);
  EXPECT_EQ(check_claims(token(claims(now + 900, R"("iss":["https://gatehouse.example"])")), now, rules()).why(),
            claim_failure::wrong_issuer);
  claim_rules legacy = rules();
  legacy.issuer.reset();
  EXPECT_TRUE(check_claims(token(claims(now + 900, "")), now, legacy));
}

// The Node.js original's tokens (LEGACY_JWT_SECRET) have neither iss nor
// aud; one that has either must still carry ours.
TEST(jose_check_claims, legacy_rules_excuse_a_missing_iss_and_aud_but_not_wrong_ones) {
  claim_rules legacy = rules("api");
  legacy.allow_missing_issuer_and_audience = true;
  EXPECT_TRUE(check_claims(token(claims(now + 900, "")), now, legacy));
  EXPECT_TRUE(check_claims(token(claims(now + 900, R"("iss":"https://gatehouse.example","aud":"api")")), now, legacy));
  EXPECT_EQ(check_claims(token(claims(now + 900, R"("iss":"https://evil.example")")), now, legacy).why(),
            claim_failure::wrong_issuer);
  EXPECT_EQ(check_claims(token(claims(now + 900, R"("iss":null)")), now, legacy).why(), claim_failure::wrong_issuer);
  EXPECT_EQ(check_claims(token(claims(now + 900, R"("aud":"other")")), now, legacy).why(),
            claim_failure::wrong_audience);
  // Every other rule still applies.
  EXPECT_EQ(check_claims(token(claims(now - 31, "")), now, legacy).why(), claim_failure::expired);
  EXPECT_EQ(check_claims(token(claims(now + 900, "\"iat\":" + std::to_string(now + 60))), now, legacy).why(),
            claim_failure::not_yet_valid);
  EXPECT_EQ(check_claims(token(claims(now + 900, ""), "secevent+jwt"), now, legacy).why(), claim_failure::wrong_type);
}

TEST(jose_check_claims, aud_is_a_string_or_an_array_containing_ours_when_one_is_required) {
  const std::string iss = R"("iss":"https://gatehouse.example",)";
  const auto with_aud = [&](const std::string& aud) { return token(claims(now + 900, iss + "\"aud\":" + aud)); };
  EXPECT_TRUE(check_claims(with_aud(R"("api")"), now, rules("api")));
  EXPECT_TRUE(check_claims(with_aud(R"(["other","api"])"), now, rules("api")));
  for (const std::string aud : {R"("other")", R"(["other"])", R"([])", "1", "null", R"({"api":true})", R"("API")"})
    EXPECT_EQ(check_claims(with_aud(aud), now, rules("api")).why(), claim_failure::wrong_audience) << aud;
  EXPECT_EQ(check_claims(token(claims(now + 900)), now, rules("api")).why(), claim_failure::wrong_audience);
  // No audience required: aud is not looked at.
  EXPECT_TRUE(check_claims(with_aud(R"("other")"), now, rules()));
}

TEST(jose_check_claims, typ_is_at_jwt_or_jwt_or_absent) {
  for (const std::string typ : {"at+jwt", "JWT", "jwt", "application/at+jwt", "AT+JWT", ""})
    EXPECT_TRUE(check_claims(token(claims(now + 900), typ), now, rules())) << typ;
  for (const std::string typ : {"JOSE", "mfa+jwt", "refresh", "application/", "at+jwt ", "application/jose"})
    EXPECT_EQ(check_claims(token(claims(now + 900), typ), now, rules()).why(), claim_failure::wrong_type) << typ;
  claim_rules only_access = rules();
  only_access.types = {"at+jwt"};
  EXPECT_EQ(check_claims(token(claims(now + 900), "JWT"), now, only_access).why(), claim_failure::wrong_type);
}

TEST(jose_check_claims, payloads_that_are_not_json_objects_are_refused) {
  for (const std::string& payload : std::vector<std::string>{"", "[]", "\"x\"", "{", "Example of Ed25519 signing", "{\"exp\":1}{}",
                                    std::string(100, '[') + std::string(100, ']')})
    EXPECT_EQ(check_claims(token(payload), now, rules()).why(), claim_failure::not_an_object) << payload;
}

}  // namespace
}  // namespace gatehouse::jose
