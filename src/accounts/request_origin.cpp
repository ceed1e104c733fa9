#include "accounts/request_origin.hpp"

#include "crypto/crypto.hpp"

namespace gatehouse::accounts {

std::string client_action::bytes_for(std::string_view purpose) const {
  if (seed.empty()) return crypto::random_bytes(16);
  std::string input(purpose);
  input.push_back('\n');
  input.append(seed);
  return std::string(crypto::as_bytes(crypto::sha256(input)).substr(0, 16));
}

std::string client_action::id_for(std::string_view purpose) const { return crypto::uuid_from_bytes(bytes_for(purpose)); }

std::string client_action::name_for(std::string_view purpose) const { return crypto::to_hex(bytes_for(purpose)); }

}  // namespace gatehouse::accounts
