#pragma once
// A TOTP secret as the stores keep it: sealed with AES-256-GCM
// (crypto/aead) under a key the caller derives from the server secret
// (crypto::key_purpose::mfa_secrets), with the user id as associated data.
// A copied SQLite file or DynamoDB export yields no usable secret without
// the server secret, and a sealed secret copied onto another user's row
// does not open there.
//
// Stored form: "v1." + base64url(nonce || ciphertext || tag), text for any
// store; the version names this layout and key purpose, so a later one can
// sit beside it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mfa {

// Longer stored text is refused by open_totp_secret before decoding; a
// sealed 20-byte secret is 3 + 64 characters.
inline constexpr std::size_t max_sealed_secret_text = 256;

// Seals `secret` (1..64 bytes) for `user_id` (non-empty) under `key` (32
// bytes). std::invalid_argument otherwise; messages never carry the secret.
std::string seal_totp_secret(std::string_view key, std::string_view secret, std::string_view user_id);

// The secret, or nullopt when `sealed` is not this form, was altered, or
// was sealed under another key or for another user.
std::optional<std::string> open_totp_secret(std::string_view key, std::string_view sealed, std::string_view user_id);

}  // namespace gatehouse::mfa
