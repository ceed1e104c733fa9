#include "mfa/hotp.hpp"

#include "crypto/crypto.hpp"

#include <stdexcept>

namespace gatehouse::mfa {

std::string hotp_code(std::string_view secret, std::uint64_t counter, int digits) {
  if (secret.empty() || secret.size() > max_secret_bytes)
    throw std::invalid_argument("hotp: the secret must be 1 to 64 bytes");
  if (digits < min_code_digits || digits > max_code_digits)
    throw std::invalid_argument("hotp: digits must be 6 to 8");
  // RFC 4226 5.2: the counter is an 8-byte big-endian integer.
  char message[8];
  for (int i = 7; i >= 0; --i, counter >>= 8) message[i] = static_cast<char>(counter & 0xFF);
  const auto mac = crypto::hmac_sha1(secret, std::string_view(message, sizeof message));
  // RFC 4226 5.3, dynamic truncation: the low nibble of the last byte picks
  // 4 bytes, read big-endian without their top bit (so no sign question).
  const std::size_t offset = mac[mac.size() - 1] & 0x0F;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7F) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code(static_cast<std::size_t>(digits), '0');
  std::uint32_t value = binary % modulus;
  for (auto it = code.rbegin(); it != code.rend(); ++it, value /= 10) *it = static_cast<char>('0' + value % 10);
  return code;
}

}  // namespace gatehouse::mfa
