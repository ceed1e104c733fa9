#include "mfa/base32.hpp"

#include "crypto/bit_packing.hpp"

#include <cstdint>

namespace gatehouse::mfa {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// The 5-bit value of one base32 character (either case), or -1.
int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// Unpadded lengths an encoder produces: 0, 2, 4, 5 or 7 characters past
// the last full group of 8 (1, 2, 3 or 4 bytes past the last 5).
bool is_possible_length(std::size_t n) {
  const std::size_t rest = n % 8;
  return rest == 0 || rest == 2 || rest == 4 || rest == 5 || rest == 7;
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  if (text.size() > max_base32_text) return std::nullopt;
  const auto first_pad = text.find('=');
  if (first_pad != std::string_view::npos) {
    if (text.size() % 8 != 0 || text.find_first_not_of('=', first_pad) != std::string_view::npos)
      return std::nullopt;
    text = text.substr(0, first_pad);
    // Padding only ever completes a partial group; a whole group of it, or
    // padding after a full group, is not an encoding of anything.
    if (text.size() % 8 == 0) return std::nullopt;
  }
  if (!is_possible_length(text.size())) return std::nullopt;
  return crypto::unpack_symbols<5>(text, value_of);
}

}  // namespace gatehouse::mfa
