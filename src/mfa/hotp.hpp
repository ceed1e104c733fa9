#pragma once
// RFC 4226 HOTP, the building block of TOTP (totp.hpp): HMAC-SHA1 of the
// counter (OpenSSL, through crypto/), dynamic truncation to 31 bits, and
// that number's last `digits` decimal digits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::mfa {

// HMAC takes any key, but a longer one is hashed first and an empty one is
// surely a bug: secrets here are 20 bytes (totp_secret_bytes).
inline constexpr std::size_t max_secret_bytes = 64;
// RFC 4226 5.3 asks for at least 6; 8 is as far as its vectors (and RFC
// 6238's) go.
inline constexpr int min_code_digits = 6;
inline constexpr int max_code_digits = 8;

// The code for `counter` under `secret` (1..64 bytes), `digits` (6..8)
// decimal digits with leading zeros. std::invalid_argument outside those
// ranges; the message never carries the secret.
std::string hotp_code(std::string_view secret, std::uint64_t counter, int digits);

}  // namespace gatehouse::mfa
