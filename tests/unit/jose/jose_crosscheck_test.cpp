// Gatehouse's JWS library against an independent implementation, the `jose`
// npm package (tests/peers/jose-check.mjs), in both directions and for every
// algorithm: jose verifies what Gatehouse signs and Gatehouse what jose
// signs, both compute the same RFC 7638 thumbprints, and every forgery
// Gatehouse refuses, jose refuses too (and the one odd valid case, a high-S
// ECDSA signature, both accept).
#include "jose/claims.hpp"
#include "jose/jws.hpp"
#include "token_surgery.hpp"
#include "support/node_json_check.hpp"

#include "base/text.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <chrono>

namespace gatehouse::jose {
namespace {

namespace json = boost::json;
using testing::segment;
using testing::with_signature;
using crypto::base64url_decode;
using crypto::base64url_encode;

const std::vector<algorithm> all_algorithms = {algorithm::rs256, algorithm::es256, algorithm::eddsa,
                                               algorithm::hs256};

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object ask_jose(const json::object& request) { return gatehouse::testing::ask_node_script("jose-check.mjs", request); }

// One key of each algorithm, with what jose needs to verify its tokens.
struct party {
  signing_key key;
  json::object jose_key;  // {"jwks": {...}} or {"secret": base64url}
};

party party_for(algorithm alg) {
  if (alg == algorithm::hs256) {
    const std::string secret = crypto::random_bytes(32);
    return {signing_key::hmac(secret), json::object{{"secret", base64url_encode(secret)}}};
  }
  party p{signing_key::generate(alg), {}};
  json::array keys;
  keys.push_back(p.key.verification().public_jwk());
  p.jose_key["jwks"] = json::object{{"keys", std::move(keys)}};
  return p;
}

std::string claims_json() {
  json::object claims{{"sub", "u1"}, {"iss", "https://gatehouse.test"}, {"aud", "api"},
                      {"iat", now()}, {"exp", now() + 900}};
  return json::serialize(claims);
}

struct verify_case {
  std::string name;
  algorithm alg;
  std::string token;
  json::object jose_key;
  bool valid;  // what Gatehouse says (checked first)
  // Refused by Gatehouse's strict parsing but not a forgery (the same signed
  // bytes, spelled otherwise): jose may accept it, and its verdict is not compared.
  bool strictness_only = false;
};


std::string header_with(const signing_key& key, std::string_view alg, std::string_view extra = "") {
  std::string h = R"({"alg":")" + std::string(alg) + '"';
  if (is_asymmetric(key.alg())) h += R"(,"kid":")" + key.kid() + '"';
  h += R"(,"typ":"at+jwt")";
  h += extra;
  return h + "}";
}

// The good token of `p` and forgeries of it, each marked as Gatehouse judges it.
std::vector<verify_case> cases_for(const party& p) {
  const algorithm alg = p.key.alg();
  const std::string name(name_of(alg));
  const std::string payload = claims_json();
  const std::string good = signer(p.key).sign("at+jwt", payload);
  const std::string h = segment(good, 0), body = segment(good, 1), sig = segment(good, 2);
  const std::string raw = base64url_decode(sig).value();
  std::vector<verify_case> out;
  auto add = [&](std::string what, std::string token, bool valid = false) {
    out.push_back({name + ": " + what, alg, std::move(token), p.jose_key, valid});
  };
  auto add_strictness = [&](std::string what, std::string token) {
    out.push_back({name + ": " + what, alg, std::move(token), p.jose_key, false, true});
  };
  add("the signed token", good, true);
  add("alg none", base64url_encode(header_with(p.key, "none")) + "." + body + ".");
  add("alg in lower case", sign_compact(p.key, header_with(p.key, text::ascii_lower(name)), payload));
  add("another payload", h + "." + base64url_encode(R"({"sub":"admin"})") + "." + sig);
  add("no signature segment", h + "." + body);
  add("an empty signature", h + "." + body + ".");
  add("a fourth segment", good + "." + sig);
  // jose decodes base64url with padding; RFC 7515 2 says it is omitted.
  add_strictness("padded base64url", good + std::string((4 - sig.size() % 4) % 4, '='));
  add("standard base64 in the payload", h + "." + body + "+." + sig);
  add("a crit header", sign_compact(p.key, header_with(p.key, name, R"(,"crit":["x"],"x":1)"), payload));
  add("a signature one byte short", with_signature(good, raw.substr(1)));
  add("a signature one byte long", with_signature(good, raw + '\0'));
  add("a signature with a zero byte in front", with_signature(good, '\0' + raw));
  const auto stranger = alg == algorithm::hs256 ? signing_key::hmac(crypto::random_bytes(32)) : signing_key::generate(alg);
  add("a stranger's key", signer(stranger).sign("at+jwt", payload));
  add("a stranger's signature under our kid", sign_compact(stranger, header_with(p.key, name), payload));
  if (is_asymmetric(alg)) {
    // Key confusion: HS256 with the published public key as the secret.
    const auto& pub = p.key.verification();
    for (const auto& [form, secret] : {std::pair{"PEM", pub.public_pem()}, std::pair{"DER", pub.public_der()}})
      add(std::string("HS256 keyed with the public key's ") + form,
          sign_compact(signing_key::hmac(secret), header_with(p.key, "HS256"), payload));
  }
  if (alg == algorithm::es256) {
    const std::string r = raw.substr(0, 32), s = raw.substr(32);
    const std::string n = base64url_decode("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE").value();
    const std::string zero(32, '\0');
    add("r = 0", with_signature(good, zero + s));
    add("s = 0", with_signature(good, r + zero));
    add("r = n", with_signature(good, n + s));
    add("s = n", with_signature(good, r + n));
    add("r = s = all ones", with_signature(good, std::string(64, '\xff')));
    // The DER form OpenSSL uses is not a JWS signature.
    auto integer = [](std::string_view x) {
      std::size_t i = 0;
      while (i + 1 < x.size() && x[i] == '\0') ++i;
      std::string v(x.substr(i));
      if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
      return std::string("\x02") + static_cast<char>(v.size()) + v;
    };
    const std::string seq = integer(r) + integer(s);
    add("a DER signature", with_signature(good, std::string("\x30") + static_cast<char>(seq.size()) + seq));
    // High S (n - s): valid ECDSA, which RFC 7518 does not exclude.
    std::string high(32, '\0');
    for (int i = 31, borrow = 0; i >= 0; --i) {
      const int d = static_cast<unsigned char>(n[i]) - static_cast<unsigned char>(s[i]) - borrow;
      borrow = d < 0;
      high[i] = static_cast<char>(d + (borrow ? 256 : 0));
    }
    add("a high-S signature", with_signature(good, r + high), true);
  }
  return out;
}

TEST(jose_crosscheck, jose_verifies_what_gatehouse_signs_and_refuses_what_gatehouse_refuses) {
  std::vector<verify_case> cases;
  for (const algorithm alg : all_algorithms) {
    const party p = party_for(alg);
    auto more = cases_for(p);
    // Gatehouse's own verdicts first, so the cases are what they claim to be.
    const verifier v({p.key.verification()});
    for (auto& c : more) {
      const auto result = v.verify(c.token);
      EXPECT_EQ(static_cast<bool>(result), c.valid) << c.name;
      if (result && c.valid) {
        claim_rules rules;
        rules.issuer = "https://gatehouse.test";
        rules.audience = "api";
        EXPECT_TRUE(check_claims(result.token(), now(), rules)) << c.name;
      }
    }
    cases.insert(cases.end(), more.begin(), more.end());
  }
  json::array items;
  for (const auto& c : cases) {
    json::object item = c.jose_key;
    item["token"] = c.token;
    item["alg"] = name_of(c.alg);
    item["jwt"] = true;
    items.push_back(std::move(item));
  }
  const json::object answer = ask_jose(json::object{{"verify", std::move(items)}});
  const json::array& verdicts = answer.at("verify").as_array();
  ASSERT_EQ(verdicts.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json::object& verdict = verdicts[i].as_object();
    if (cases[i].strictness_only) continue;
    EXPECT_EQ(verdict.at("ok").as_bool(), cases[i].valid)
        << cases[i].name << ": jose says " << json::serialize(verdict);
  }
}

TEST(jose_crosscheck, gatehouse_verifies_what_jose_signs_and_agrees_on_the_kid) {
  json::array requests;
  std::vector<std::string> secrets;
  for (const algorithm alg : all_algorithms) {
    json::object payload{{"sub", "u1"}, {"iss", "https://gatehouse.test"}, {"aud", json::array{"other", "api"}},
                         {"iat", now()}, {"exp", now() + 900}};
    json::object item{{"alg", name_of(alg)}, {"payload", std::move(payload)}};
    secrets.push_back(alg == algorithm::hs256 ? crypto::random_bytes(32) : std::string());
    if (alg == algorithm::hs256) item["secret"] = base64url_encode(secrets.back());
    requests.push_back(std::move(item));
  }
  const json::object answer = ask_jose(json::object{{"sign", std::move(requests)}});
  const json::array& signed_tokens = answer.at("sign").as_array();
  ASSERT_EQ(signed_tokens.size(), all_algorithms.size());
  for (std::size_t i = 0; i < all_algorithms.size(); ++i) {
    const algorithm alg = all_algorithms[i];
    SCOPED_TRACE(std::string(name_of(alg)));
    const json::object& from_jose = signed_tokens[i].as_object();
    const std::string token(from_jose.at("token").as_string());
    const verification_key key = is_asymmetric(alg)
                                     ? verification_key::from_public_pem(std::string(from_jose.at("spki").as_string()))
                                     : verification_key::hmac(secrets[i]);
    if (is_asymmetric(alg)) {
      EXPECT_EQ(key.kid(), from_jose.at("kid").as_string());
    }
    EXPECT_EQ(key.alg(), alg);
    // Beside another key, so the kid is what picks it.
    const auto other = signing_key::generate(algorithm::es256);
    const auto result = verifier({other.verification(), key}).verify(token);
    ASSERT_TRUE(result) << static_cast<int>(result.why());
    EXPECT_EQ(result.token().typ, "at+jwt");
    claim_rules rules;
    rules.issuer = "https://gatehouse.test";
    rules.audience = "api";
    const auto claims = check_claims(result.token(), now(), rules);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims.claims().at("sub"), "u1");
  }
}

TEST(jose_crosscheck, thumbprints_agree_with_calculate_jwk_thumbprint) {
  json::array jwks;
  std::vector<std::string> kids;
  for (const algorithm alg : {algorithm::rs256, algorithm::es256, algorithm::eddsa}) {
    for (int i = 0; i < 3; ++i) {
      const auto key = signing_key::generate(alg);
      jwks.push_back(key.verification().public_jwk());
      kids.push_back(key.kid());
    }
  }
  // RFC 7638 section 3.1's example, whose thumbprint the RFC gives.
  jwks.push_back(json::parse(R"({"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
    "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"})"));
  kids.push_back("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  const json::object answer = ask_jose(json::object{{"thumbprint", jwks}});
  const json::array& thumbprints = answer.at("thumbprint").as_array();
  ASSERT_EQ(thumbprints.size(), kids.size());
  for (std::size_t i = 0; i < kids.size(); ++i) EXPECT_EQ(thumbprints[i].as_string(), kids[i]) << i;
}

}  // namespace
}  // namespace gatehouse::jose
