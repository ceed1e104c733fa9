#pragma once
// The JWS algorithms Gatehouse signs and verifies with (RFC 7518 3.1, RFC 8037 3.1).
#include <optional>
#include <string_view>

namespace gatehouse::jose {

enum class algorithm {
  rs256,  // RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more
  es256,  // ECDSA on P-256 with SHA-256, signatures as the raw 64-byte R || S
  eddsa,  // Ed25519
  hs256,  // HMAC with SHA-256, secrets of 32 bytes or more
};

// The `alg` header value: "RS256", "ES256", "EdDSA", "HS256".
std::string_view name_of(algorithm alg) noexcept;

// The algorithm with exactly that `alg` name (case matters, as in RFC 7515
// 4.1.1); nullopt for anything else, "none" included.
std::optional<algorithm> algorithm_named(std::string_view name) noexcept;

// Public-key algorithms publish a JWK and put a `kid` in their tokens; HS256 does neither.
constexpr bool is_asymmetric(algorithm alg) noexcept { return alg != algorithm::hs256; }

}  // namespace gatehouse::jose
