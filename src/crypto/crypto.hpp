#pragma once
// Thin, total wrappers over OpenSSL: every function takes any bytes and
// either returns a result or throws gatehouse::error(internal).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;
using sha1_digest = std::array<std::uint8_t, 20>;

// Cryptographically secure random bytes (RAND_bytes).
std::string random_bytes(std::size_t count);

sha256_digest sha256(std::string_view data);
sha256_digest hmac_sha256(std::string_view key, std::string_view data);
// For TOTP only (RFC 6238's algorithm, the one every authenticator app
// speaks). SHA-1's broken collision resistance does not weaken HMAC-SHA1
// as a MAC; nothing else here should pick SHA-1.
sha1_digest hmac_sha1(std::string_view key, std::string_view data);

// RFC 5869 HKDF with SHA-256: `length` (1..8160) bytes of output keying
// material from `key` (the input keying material), `salt` and `info`.
std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, std::size_t length);

// Compares in time independent of where the inputs differ (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_hex(std::string_view bytes);
std::string to_hex(const sha256_digest& digest);
std::string_view as_bytes(const sha256_digest& digest);
std::string_view as_bytes(const sha1_digest& digest);

// RFC 4648 section 5, without padding (JWT, cursors, random ids).
std::string base64url_encode(std::string_view bytes);
// Rejects padding, characters outside the alphabet and impossible lengths.
std::optional<std::string> base64url_decode(std::string_view text);

// Standard alphabet with padding (Lambda bodies).
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// A random (version 4) UUID in its canonical lower-case form.
std::string uuid_v4();
// The same form made from the first 16 of `bytes` (at least 16; internal error
// otherwise): for ids that must be the same on every retry of one action,
// from bytes only the server can compute (an HMAC), so still unguessable.
std::string uuid_from_bytes(std::string_view bytes);

}  // namespace gatehouse::crypto
