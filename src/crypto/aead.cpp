#include "crypto/aead.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace gatehouse::crypto {
namespace {

using cipher_context = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void check_key(std::string_view key) {
  if (key.size() != aead_key_bytes) throw std::invalid_argument("aead: the key must be 32 bytes");
}

cipher_context new_context() {
  cipher_context ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw error(error_kind::internal, "internal", "aead: out of memory");
  return ctx;
}

}  // namespace

std::string aead_seal_with_nonce(std::string_view key, std::string_view nonce, std::string_view plaintext,
                                 std::string_view associated_data) {
  check_key(key);
  if (nonce.size() != aead_nonce_bytes) throw std::invalid_argument("aead: the nonce must be 12 bytes");
  if (plaintext.size() > aead_max_plaintext || associated_data.size() > aead_max_plaintext)
    throw std::invalid_argument("aead: the input is too large");
  std::string sealed(nonce);
  sealed.resize(aead_overhead + plaintext.size());
  auto* out = bytes(sealed) + aead_nonce_bytes;
  const auto ctx = new_context();
  int n = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(associated_data), static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out, &n, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out + n, &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(aead_tag_bytes),
                          out + plaintext.size()) == 1;
  if (!ok) throw error(error_kind::internal, "internal", "aead: encryption failed");
  return sealed;
}

std::string aead_seal(std::string_view key, std::string_view plaintext, std::string_view associated_data) {
  return aead_seal_with_nonce(key, random_bytes(aead_nonce_bytes), plaintext, associated_data);
}

std::optional<std::string> aead_open(std::string_view key, std::string_view sealed, std::string_view associated_data) {
  check_key(key);
  if (sealed.size() < aead_overhead || sealed.size() - aead_overhead > aead_max_plaintext ||
      associated_data.size() > aead_max_plaintext)
    return std::nullopt;
  const auto nonce = sealed.substr(0, aead_nonce_bytes);
  const auto ciphertext = sealed.substr(aead_nonce_bytes, sealed.size() - aead_overhead);
  std::string tag(sealed.substr(sealed.size() - aead_tag_bytes));
  std::string plaintext(ciphertext.size(), '\0');
  const auto ctx = new_context();
  int n = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(associated_data), static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &n, bytes(ciphertext), static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(aead_tag_bytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + n, &n) == 1;  // checks the tag
  if (!ok) return std::nullopt;
  return plaintext;
}

}  // namespace gatehouse::crypto
