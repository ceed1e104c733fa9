#pragma once
// ES256 signatures in two forms: JWS carries the raw 64-byte R || S (RFC 7518
// 3.4), OpenSSL signs and verifies the DER ECDSA-Sig-Value. Internal to jose.
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::jose::detail {

inline constexpr std::size_t es256_signature_bytes = 64;

// DER -> R || S, each left-padded to 32 bytes; nullopt if `der` is not one
// ECDSA-Sig-Value with R and S that fit.
std::optional<std::string> es256_raw_from_der(std::string_view der);

// R || S -> DER; nullopt unless `raw` is exactly 64 bytes with 0 < R < n and
// 0 < S < n (n the order of P-256). A high S (n/2 < S < n) is valid ECDSA
// and RFC 7518 does not ask for low S, so it is accepted, as jose does.
std::optional<std::string> es256_der_from_raw(std::string_view raw);

}  // namespace gatehouse::jose::detail
