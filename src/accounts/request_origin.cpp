#include "accounts/request_origin.hpp"

#include "crypto/crypto.hpp"

namespace gatehouse::accounts {

std::string client_action::id_for(std::string_view purpose) const {
  if (seed.empty()) return crypto::uuid_v4();
  std::string input(purpose);
  input.push_back('\n');
  input.append(seed);
  return crypto::uuid_from_bytes(crypto::as_bytes(crypto::sha256(input)));
}

}  // namespace gatehouse::accounts
