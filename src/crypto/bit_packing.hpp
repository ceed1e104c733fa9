#pragma once
// The inner loop of every base-2^n decoder here (base64 and base64url in
// crypto.cpp, base32 in mfa/base32.cpp): symbols of `symbol_bits` bits,
// most significant first, packed into bytes. Each caller checks its own
// lengths and padding first.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::crypto {

// `value_of(c)` is the symbol's value, or -1 for a byte outside the
// alphabet (nullopt). Leftover bits must be zero (nullopt otherwise), so
// every byte string has exactly one encoding.
template <int symbol_bits, typename value_of_fn>
std::optional<std::string> unpack_symbols(std::string_view text, value_of_fn value_of) {
  static_assert(symbol_bits > 0 && symbol_bits < 8);
  std::string out;
  out.reserve(text.size() * symbol_bits / 8 + 1);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = value_of(c);
    if (v < 0) return std::nullopt;
    // At most 7 + symbol_bits bits are live; the mask keeps acc from growing.
    acc = ((acc << symbol_bits) | static_cast<std::uint32_t>(v)) & 0xFFFF;
    bits += symbol_bits;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace gatehouse::crypto
