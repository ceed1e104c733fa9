#include "jose/ecdsa_signature.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

namespace gatehouse::jose::detail {
namespace {

constexpr std::size_t half = es256_signature_bytes / 2;

// The order n of P-256 (FIPS 186-4 D.1.2.3), big-endian.
constexpr std::array<std::uint8_t, half> p256_order = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// 0 < value < n, for a 32-byte big-endian value: equal lengths make the
// byte-wise comparison a numeric one.
bool in_scalar_range(const unsigned char* value) {
  const bool zero = std::all_of(value, value + half, [](unsigned char b) { return b == 0; });
  return !zero && std::lexicographical_compare(value, value + half, p256_order.begin(), p256_order.end());
}

struct sig_deleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using sig_ptr = std::unique_ptr<ECDSA_SIG, sig_deleter>;

}  // namespace

std::optional<std::string> es256_raw_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(es256_signature_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, half) != static_cast<int>(half) ||
      BN_bn2binpad(s, out + half, half) != static_cast<int>(half))
    return std::nullopt;
  return raw;
}

std::optional<std::string> es256_der_from_raw(std::string_view raw) {
  if (raw.size() != es256_signature_bytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  if (!in_scalar_range(bytes) || !in_scalar_range(bytes + half)) return std::nullopt;
  sig_ptr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace gatehouse::jose::detail
