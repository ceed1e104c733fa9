#pragma once
// Compact JWS (RFC 7515 7.1): signing with one key, verifying against a key
// set chosen by `kid` (the current signing key and the previous ones).
#include "jose/keys.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::jose {

// Tokens are a few hundred bytes; longer ones are refused before any decoding.
inline constexpr std::size_t max_token_bytes = 8 * 1024;

// BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature) with the
// header bytes exactly as given, for test vectors and callers that need a
// header of their own. The header is not checked.
std::string sign_compact(const signing_key& key, std::string_view header_json, std::string_view payload);

class signer {
 public:
  explicit signer(signing_key key) : key_(std::move(key)) {}

  // A compact JWS with the header {"alg","kid","typ"} (no kid for HS256,
  // no typ when `typ` is empty) over `payload` (the claims' JSON).
  std::string sign(std::string_view typ, std::string_view payload) const;

  const signing_key& key() const noexcept { return key_; }

 private:
  signing_key key_;
};

// Why a token was refused, for tests and logs; the client is told no more
// than that its token is invalid.
enum class rejection {
  malformed,         // not three base64url segments, longer than max_token_bytes, ...
  bad_header,        // the header is not a JSON object of string-valued alg/kid/typ
  unsupported_alg,   // `none` or any algorithm name we do not implement
  critical_header,   // `crit`: we understand no extensions (RFC 7515 4.1.11)
  unknown_key,       // no key with that kid, or no kid where the set needs one
  alg_mismatch,      // the key chosen is for another algorithm than the header's
  bad_signature,
};

struct verified_token {
  std::string payload;   // the verified payload bytes, not yet parsed
  std::string typ;       // the header's `typ`, empty when absent
  algorithm alg = algorithm::hs256;
  std::string kid;       // empty for HS256
};

class verify_result {
 public:
  verify_result(verified_token token) : token_(std::move(token)) {}
  verify_result(rejection why) : why_(why) {}
  explicit operator bool() const noexcept { return token_.has_value(); }
  const verified_token& token() const { return token_.value(); }
  verified_token& token() { return token_.value(); }
  // Meaningful only when the token was refused.
  rejection why() const noexcept { return why_; }

 private:
  std::optional<verified_token> token_;
  rejection why_ = rejection::malformed;
};

// Key choice, in one rule: a token names its key by `kid`, and the key
// decides the algorithm (the header's `alg` must be the key's).
//  - An asymmetric token without a `kid` is accepted only from a set of
//    exactly one key (a set of one has nothing to choose; with more, a
//    missing kid would mean trying keys on the token's say-so).
//  - HS256 secrets have no kid (they are never published): an HS256 token
//    carries none and is checked against every HS256 secret of the set
//    (a handful at most), each in constant time. An HS256 token with a kid
//    is unknown_key.
// So an RSA, EC or Ed25519 public key is never used as an HMAC secret.
class verifier {
 public:
  // key_error for an empty set or two keys with one kid.
  explicit verifier(std::vector<verification_key> keys);

  // Never throws; a refused token says why.
  verify_result verify(std::string_view token) const noexcept;

  const std::vector<verification_key>& keys() const noexcept { return keys_; }

 private:
  std::vector<verification_key> keys_;
};

}  // namespace gatehouse::jose
