#include "jose/jwk.hpp"

#include "crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <span>
#include <string_view>

namespace gatehouse::jose {
namespace {

// The required members of each key type, already in lexicographic order.
constexpr std::array<std::string_view, 3> rsa_members{"e", "kty", "n"};
constexpr std::array<std::string_view, 4> ec_members{"crv", "kty", "x", "y"};
constexpr std::array<std::string_view, 3> okp_members{"crv", "kty", "x"};
constexpr std::array<std::string_view, 2> oct_members{"k", "kty"};

std::optional<std::span<const std::string_view>> required_members(std::string_view kty) {
  if (kty == "RSA") return rsa_members;
  if (kty == "EC") return ec_members;
  if (kty == "OKP") return okp_members;
  if (kty == "oct") return oct_members;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> jwk_thumbprint(const boost::json::object& jwk) {
  const boost::json::value* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return std::nullopt;
  const auto members = required_members(kty->get_string());
  if (!members) return std::nullopt;
  std::string canonical = "{";
  for (const std::string_view name : *members) {
    const boost::json::value* value = jwk.if_contains(name);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    if (canonical.size() > 1) canonical += ',';
    // Boost's serializer escapes as RFC 7638 3.3 asks (JSON's minimal escapes);
    // base64url values and the kty/crv names need none anyway.
    canonical += boost::json::serialize(boost::json::string(name));
    canonical += ':';
    canonical += boost::json::serialize(value->get_string());
  }
  canonical += '}';
  return crypto::base64url_encode(crypto::as_bytes(crypto::sha256(canonical)));
}

}  // namespace gatehouse::jose
