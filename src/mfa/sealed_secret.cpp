#include "mfa/sealed_secret.hpp"

#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"
#include "mfa/hotp.hpp"

#include <stdexcept>

namespace gatehouse::mfa {
namespace {

constexpr std::string_view version_prefix = "v1.";

}  // namespace

std::string seal_totp_secret(std::string_view key, std::string_view secret, std::string_view user_id) {
  if (secret.empty() || secret.size() > max_secret_bytes)
    throw std::invalid_argument("sealed secret: the secret must be 1 to 64 bytes");
  // An empty user id would bind the secret to no one in particular.
  if (user_id.empty()) throw std::invalid_argument("sealed secret: the user id is empty");
  return std::string(version_prefix) + crypto::base64url_encode(crypto::aead_seal(key, secret, user_id));
}

std::optional<std::string> open_totp_secret(std::string_view key, std::string_view sealed, std::string_view user_id) {
  if (user_id.empty() || sealed.size() > max_sealed_secret_text || !sealed.starts_with(version_prefix))
    return std::nullopt;
  const auto bytes = crypto::base64url_decode(sealed.substr(version_prefix.size()));
  if (!bytes) return std::nullopt;
  auto secret = crypto::aead_open(key, *bytes, user_id);
  if (!secret || secret->empty() || secret->size() > max_secret_bytes) return std::nullopt;
  return secret;
}

}  // namespace gatehouse::mfa
