#include "crypto/server_secret.hpp"

#include "crypto/crypto.hpp"

namespace gatehouse::crypto {

std::string server_secret::key_for(std::string_view purpose) const {
  // A fixed, public salt: the secret is already uniformly random (or long),
  // and the salt only separates Gatehouse's derivations from anyone else's.
  static constexpr std::string_view salt = "gatehouse server secret";
  return hkdf_sha256(secret_, salt, purpose, 32);
}

}  // namespace gatehouse::crypto
