#pragma once
// Access tokens (API.md "Access tokens (v1, extended)"): signed with the
// current key of JWT_ALG, verified against every key that may have signed
// a live token, and published as a JWKS for the services that check them
// on their own (API Gateway's JWT authorizer, jose, ...).
#include "auth/verified_token_cache.hpp"
#include "jose/claims.hpp"
#include "jose/jws.hpp"
#include "jose/keys.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

struct access_claims {
  std::string user_id;  // `sub`, and `userId` for the Node.js clients
  std::string email;
  std::int64_t issued_at = 0;   // `iat`, seconds since the epoch
  std::int64_t expires_at = 0;  // `exp`
  // `sid`: the session (the refresh-token family) the token was issued in;
  // empty in tokens of v1 and of the Node.js original.
  std::string session_id;
  std::string role = "user";  // `role`; a token without one is a user's
  std::string token_id;       // `jti`, filled in by sign()
};

// Every key a process signs or verifies with, gathered by app/token_keys.
struct token_keys {
  jose::signing_key signing;  // signs; also verifies
  // Verify only: the key before the last rotation (AWSPREVIOUS, the local
  // previous key) and, during a cut-over from HS256, the v1 secret.
  std::vector<jose::verification_key> previous;
  // LEGACY_JWT_SECRET: the Node.js original's tokens, which carry no `iss`.
  std::optional<jose::verification_key> legacy;
};

struct token_settings {
  std::string issuer{};                 // JWT_ISSUER
  std::optional<std::string> audience{};  // JWT_AUDIENCE
  std::int64_t leeway_seconds = 30;     // for exp and iat
  std::size_t cache_entries = 4096;     // verified tokens kept (about 1 KiB each)
};

class access_tokens {
 public:
  // jose::key_error when two keys share a kid.
  access_tokens(token_keys keys, token_settings settings);

  // A token for `claims` (its `jti` is made here), typ at+jwt.
  std::string sign(access_claims claims) const;

  // The claims of a token that passes every rule of the contract at `now`,
  // or nullopt (one answer for every failure). Never throws.
  std::optional<access_claims> verify(std::string_view token, std::int64_t now) const noexcept;

  // {"keys": [...]}: the public JWKs of the signing key and of the
  // asymmetric previous ones; empty for HS256, whose secrets are never shown.
  const boost::json::object& jwks() const noexcept { return jwks_; }

  jose::algorithm algorithm() const noexcept { return signer_.key().alg(); }
  const token_settings& settings() const noexcept { return settings_; }

 private:
  struct verified;  // claims and the window they hold in
  std::optional<verified> verify_uncached(std::string_view token, std::int64_t now) const;

  jose::signer signer_;
  jose::verifier verifier_;
  std::optional<jose::verifier> legacy_;
  token_settings settings_;
  jose::claim_rules rules_;
  jose::claim_rules legacy_rules_;
  boost::json::object jwks_;
  mutable verified_token_cache<access_claims> cache_;
};

}  // namespace gatehouse::auth
