#include "auth/access_tokens.hpp"

#include "base/saturating.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>

namespace gatehouse::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view access_token_type = "at+jwt";  // RFC 9068 2.1

std::vector<jose::verification_key> verification_set(const token_keys& keys) {
  std::vector<jose::verification_key> set{keys.signing.verification()};
  set.insert(set.end(), keys.previous.begin(), keys.previous.end());
  return set;
}

json::object jwks_of(const std::vector<jose::verification_key>& keys) {
  json::array published;
  for (const auto& key : keys)
    if (jose::is_asymmetric(key.alg())) published.push_back(key.public_jwk());
  return json::object{{"keys", std::move(published)}};
}

const json::string* string_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr ? v->if_string() : nullptr;
}

// What our routes need of checked claims. `sub` names the user; the Node.js
// original wrote only `userId`; where both are present they must agree.
// Optional claims must have the right type when present: a token is ours
// or refused, never half-read.
std::optional<access_claims> read_claims(const json::object& claims) {
  const json::string* sub = string_claim(claims, "sub");
  const json::string* user_id = string_claim(claims, "userId");
  if (claims.contains("sub") && sub == nullptr) return std::nullopt;
  if (claims.contains("userId") && user_id == nullptr) return std::nullopt;
  if (sub != nullptr && user_id != nullptr && *sub != *user_id) return std::nullopt;
  const json::string* subject = sub != nullptr ? sub : user_id;
  const json::string* email = string_claim(claims, "email");
  if (subject == nullptr || subject->empty() || email == nullptr) return std::nullopt;

  access_claims c;
  c.user_id = *subject;
  c.email = *email;
  c.expires_at = *jose::integer_claim(claims, "exp");  // check_claims required it
  if (const auto iat = jose::integer_claim(claims, "iat")) c.issued_at = *iat;
  for (auto [name, field] : {std::pair{"sid", &c.session_id}, std::pair{"role", &c.role}, std::pair{"jti", &c.token_id}}) {
    if (!claims.contains(name)) continue;
    const json::string* s = string_claim(claims, name);
    if (s == nullptr || s->empty()) return std::nullopt;
    *field = *s;
  }
  return c;
}

}  // namespace

struct access_tokens::verified {
  access_claims claims;
  std::int64_t valid_from = 0;   // iat or nbf, the later, less the leeway
  std::int64_t valid_until = 0;  // exp plus the leeway
};

access_tokens::access_tokens(token_keys keys, token_settings settings)
    : signer_(keys.signing),
      verifier_(verification_set(keys)),
      settings_(std::move(settings)),
      jwks_(jwks_of(verifier_.keys())),
      cache_(settings_.cache_entries) {
  if (keys.legacy) legacy_.emplace(std::vector<jose::verification_key>{*keys.legacy});
  rules_.issuer = settings_.issuer;
  rules_.audience = settings_.audience;
  rules_.leeway_seconds = settings_.leeway_seconds;
  legacy_rules_ = rules_;
  legacy_rules_.allow_missing_issuer_and_audience = true;
}

std::string access_tokens::sign(access_claims claims) const {
  claims.token_id = crypto::base64url_encode(crypto::random_bytes(16));
  // Registered claims first, then ours, then the Node.js version's.
  json::object payload;
  payload["iss"] = settings_.issuer;
  payload["sub"] = claims.user_id;
  if (settings_.audience) payload["aud"] = *settings_.audience;
  payload["exp"] = claims.expires_at;
  payload["iat"] = claims.issued_at;
  payload["jti"] = claims.token_id;
  if (!claims.session_id.empty()) payload["sid"] = claims.session_id;
  payload["role"] = claims.role;
  payload["userId"] = claims.user_id;
  payload["email"] = claims.email;
  return signer_.sign(access_token_type, json::serialize(payload));
}

std::optional<access_claims> access_tokens::verify(std::string_view token, std::int64_t now) const noexcept {
  try {
    if (auto hit = cache_.find(token, now)) return hit;
    auto checked = verify_uncached(token, now);
    if (!checked) return std::nullopt;
    cache_.put(token, checked->claims, checked->valid_from, checked->valid_until, now);
    return std::move(checked->claims);
  } catch (...) {
    // bad_alloc or anything unforeseen: an unverifiable token, never a crash.
    return std::nullopt;
  }
}

std::optional<access_tokens::verified> access_tokens::verify_uncached(std::string_view token, std::int64_t now) const {
  const jose::claim_rules* rules = &rules_;
  auto signature = verifier_.verify(token);
  if (!signature && legacy_) {
    signature = legacy_->verify(token);
    rules = &legacy_rules_;
  }
  if (!signature) return std::nullopt;
  const auto checked = jose::check_claims(signature.token(), now, *rules);
  if (!checked) return std::nullopt;
  auto claims = read_claims(checked.claims());
  if (!claims) return std::nullopt;
  // check_claims let both through: they are integers where present.
  std::int64_t starts = std::numeric_limits<std::int64_t>::min();
  for (const char* name : {"iat", "nbf"})
    if (const auto at = jose::integer_claim(checked.claims(), name)) starts = std::max(starts, *at);
  const std::int64_t leeway = std::max<std::int64_t>(settings_.leeway_seconds, 0);
  const std::int64_t until = saturating_add(claims->expires_at, leeway);
  return verified{std::move(*claims), saturating_add(starts, -leeway), until};
}

}  // namespace gatehouse::auth
