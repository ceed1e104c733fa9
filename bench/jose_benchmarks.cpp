// Google Benchmark micro-benchmarks of the JWS library (src/jose, issue 14;
// docs/BENCHMARKS.md "Token signing and verification"). Part of the
// micro_benchmarks executable, whose main() runs them; they register
// themselves here, at static initialisation, like BENCHMARK() would.
//
//   jose/<alg>/sign    jose::signer::sign of an access token's claims (about
//                      300 bytes of JSON: the claims of API.md "Access tokens
//                      (v1, extended)"), header typ at+jwt.
//   jose/<alg>/verify  jose::verifier::verify of such a token against a set
//                      of two keys of that algorithm (the signing key and the
//                      previous one, as after a rotation); the token is the
//                      current key's, so HS256 succeeds on its first secret.
//   jose/check_claims  the claim rules (issuer and audience set) on the
//                      verified payload: the JSON parse and the checks.
//
// Keys are generated fresh at start-up (RSA 2048 bits, P-256, Ed25519, 32
// random bytes): a key's speed does not depend on which key it is.
#include "jose/claims.hpp"
#include "jose/jws.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace gatehouse::bench {
namespace {

constexpr const char* issuer = "https://gatehouse.example";
constexpr const char* audience = "gatehouse-api";

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// What a login issues: iss, sub, aud, exp, iat, jti, sid, role, and the
// Node.js clients' userId and email (about 300 bytes).
std::string access_token_claims(std::int64_t now) {
  const std::string user_id = "3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93";
  return std::string(R"({"iss":")") + issuer + R"(","sub":")" + user_id + R"(","aud":")" + audience +
         R"(","exp":)" + std::to_string(now + 900) + R"(,"iat":)" + std::to_string(now) +
         R"(,"jti":"0b7e4c2a-5d91-4f3e-a8c6-71e2d9b04f58","sid":"c4a1f7e2-93b6-4d08-8e5f-2b6a0d9c7e31",)"
         R"("role":"user","userId":")" +
         user_id + R"(","email":"ada@example.com"})";
}

jose::claim_rules access_token_rules() {
  jose::claim_rules rules;
  rules.issuer = issuer;
  rules.audience = audience;
  return rules;
}

void jose_sign(benchmark::State& state, jose::algorithm alg) {
  const jose::signer signer(jose::signing_key::generate(alg));
  const std::string claims = access_token_claims(now_seconds());
  state.counters["payload_bytes"] = static_cast<double>(claims.size());
  for (auto _ : state) {
    std::string token = signer.sign("at+jwt", claims);
    benchmark::DoNotOptimize(token.data());
  }
}

void jose_verify(benchmark::State& state, jose::algorithm alg) {
  const auto current = jose::signing_key::generate(alg);
  const auto previous = jose::signing_key::generate(alg);
  const jose::verifier verifier({current.verification(), previous.verification()});
  const std::string token = jose::signer(current).sign("at+jwt", access_token_claims(now_seconds()));
  state.counters["token_bytes"] = static_cast<double>(token.size());
  if (!verifier.verify(token)) {
    state.SkipWithError("the token did not verify");
    return;
  }
  for (auto _ : state) {
    auto verified = verifier.verify(token);
    benchmark::DoNotOptimize(verified);
  }
}

void jose_check_claims(benchmark::State& state) {
  const std::int64_t now = now_seconds();
  const jose::verified_token token{access_token_claims(now), "at+jwt", jose::algorithm::rs256, "kid"};
  const jose::claim_rules rules = access_token_rules();
  if (!jose::check_claims(token, now, rules)) {
    state.SkipWithError("the claims were refused");
    return;
  }
  for (auto _ : state) {
    auto claims = jose::check_claims(token, now, rules);
    benchmark::DoNotOptimize(claims);
  }
}

[[maybe_unused]] const bool registered = [] {
  for (const auto alg : {jose::algorithm::rs256, jose::algorithm::es256, jose::algorithm::eddsa,
                         jose::algorithm::hs256}) {
    const std::string prefix = "jose/" + std::string(jose::name_of(alg)) + "/";
    benchmark::RegisterBenchmark((prefix + "sign").c_str(), jose_sign, alg)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((prefix + "verify").c_str(), jose_verify, alg)->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("jose/check_claims", jose_check_claims)->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
}  // namespace gatehouse::bench
