#pragma once
// JWK thumbprints (RFC 7638): the `kid` of every public key Gatehouse signs with.
#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace gatehouse::jose {

// base64url(SHA-256) of the JWK's required members only (RSA: e, kty, n;
// EC: crv, kty, x, y; OKP: crv, kty, x; oct: k, kty), serialized as JSON in
// lexicographic order without whitespace (RFC 7638 3.2). Other members
// (`alg`, `kid`, `use`, private ones) do not count. nullopt for another kty
// or a required member that is missing or not a string.
std::optional<std::string> jwk_thumbprint(const boost::json::object& jwk);

}  // namespace gatehouse::jose
