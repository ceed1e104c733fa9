// jose::verifier::verify on arbitrary bytes against a fixed key set of one
// key of each algorithm (the RFC example keys of tests/unit/jose/test_keys.hpp
// and a fixed HS256 secret), then jose::check_claims on what verified. Both
// are noexcept and report every refusal in their result, so nothing is
// caught here.
//
// With four keys in the set, an RS256, ES256 or EdDSA token needs the `kid`
// of its key (the RFC 7638 thumbprint the signer writes); an HS256 token has
// none. The seeds in corpus/jws are tokens signed with these keys, live at
// `now` below for the issuer and audience below.
//
// A fuzzed payload almost never keeps a valid signature, so check_claims
// also runs on the decoded middle segment as if it had verified: the claim
// rules see fuzzed JSON, not only the seeds' payloads.
//
// A verified token must name the key that checked it and that key's
// algorithm; anything else is a key-confusion bug, and traps.
#include "crypto/crypto.hpp"
#include "jose/claims.hpp"
#include "jose/jws.hpp"
#include "test_keys.hpp"  // tests/unit/jose

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace gatehouse;

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view hs256_secret = "gatehouse-fuzz-hs256-secret-0123456789abcdef";

const jose::verifier& key_set() {
  static const jose::verifier v(std::vector<jose::verification_key>{
      jose::signing_key::from_pem(jose::testing::rfc7515_a2_rsa_pkcs8).verification(),
      jose::signing_key::from_pem(jose::testing::rfc7515_a3_ec_pkcs8).verification(),
      jose::signing_key::from_pem(jose::testing::rfc8037_a1_ed25519_pkcs8).verification(),
      jose::verification_key::hmac(std::string(hs256_secret)),
  });
  return v;
}

const jose::claim_rules& rules() {
  static const jose::claim_rules r = [] {
    jose::claim_rules rules;
    rules.issuer = "https://gatehouse.example";
    rules.audience = "gatehouse-api";
    return rules;
  }();
  return r;
}

// The key of the set that a verified token says checked it, or a trap.
void check_signed_by(const jose::verified_token& token) {
  for (const auto& key : key_set().keys())
    if (key.kid() == token.kid && key.alg() == token.alg) return;
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto verified = key_set().verify(token);
  if (verified) {
    check_signed_by(verified.token());
    const auto claims = jose::check_claims(verified.token(), now, rules());
    if (claims && claims.claims().empty()) __builtin_trap();  // exp at least was checked
  }

  // The payload segment, had it verified (see the top).
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second != std::string_view::npos && size <= jose::max_token_bytes) {
    if (auto payload = crypto::base64url_decode(token.substr(first + 1, second - first - 1))) {
      const jose::verified_token unsigned_token{std::move(*payload), "at+jwt", jose::algorithm::hs256, ""};
      (void)jose::check_claims(unsigned_token, now, rules());
    }
  }
  return 0;
}
