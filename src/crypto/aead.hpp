#pragma once
// Authenticated encryption for what the stores keep but must not be able to
// read back by themselves: AES-256-GCM (OpenSSL EVP) with a random 96-bit
// nonce and a 128-bit tag. The associated data binds a sealed value to the
// record it belongs to (its key in the store), so a value copied onto
// another record does not open.
//
// Sealed form: nonce (12 bytes) || ciphertext || tag (16 bytes).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::crypto {

inline constexpr std::size_t aead_key_bytes = 32;
inline constexpr std::size_t aead_nonce_bytes = 12;
inline constexpr std::size_t aead_tag_bytes = 16;
inline constexpr std::size_t aead_overhead = aead_nonce_bytes + aead_tag_bytes;
// Larger plaintexts are refused (std::invalid_argument): nothing sealed
// here is anywhere near it, and GCM's own limit is far above.
inline constexpr std::size_t aead_max_plaintext = 16 * 1024 * 1024;

// Seals `plaintext` under `key` (32 bytes) with a fresh random nonce.
// Throws std::invalid_argument for a key of another size or an oversized
// plaintext.
std::string aead_seal(std::string_view key, std::string_view plaintext, std::string_view associated_data);

// The same with a given nonce: for the published test vectors only. A
// nonce must never repeat under one key.
std::string aead_seal_with_nonce(std::string_view key, std::string_view nonce, std::string_view plaintext,
                                 std::string_view associated_data);

// The plaintext, or nullopt when `sealed` is too short, was altered, was
// sealed under another key or with other associated data.
std::optional<std::string> aead_open(std::string_view key, std::string_view sealed, std::string_view associated_data);

}  // namespace gatehouse::crypto
