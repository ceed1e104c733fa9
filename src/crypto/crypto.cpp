#include "crypto/crypto.hpp"

#include "base/error.hpp"
#include "crypto/bit_packing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <limits>

namespace gatehouse::crypto {
namespace {

[[noreturn]] void fail(const char* what) {
  throw error(error_kind::internal, "internal", what);
}

constexpr std::string_view b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view b64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                            std::uint8_t(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// Decodes unpadded text; `text.size() % 4 == 1` can never be produced by an encoder.
std::optional<std::string> decode(std::string_view text, std::string_view alphabet) {
  if (text.size() % 4 == 1) return std::nullopt;
  return unpack_symbols<6>(text, [alphabet](char c) {
    const auto pos = alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
  });
}

}  // namespace

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (count > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1)
    fail("random generator failed");
  return out;
}

sha256_digest sha256(std::string_view data) {
  sha256_digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != d.size())
    fail("sha256 failed");
  return d;
}

namespace {

// One HMAC for every digest size: the digest array is the size EVP_MD gives.
template <typename Digest>
Digest hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), d.data(), &len) == nullptr ||
      len != d.size())
    fail("hmac failed");
  return d;
}

}  // namespace

sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
  return hmac<sha256_digest>(EVP_sha256(), key, data);
}

sha1_digest hmac_sha1(std::string_view key, std::string_view data) {
  return hmac<sha1_digest>(EVP_sha1(), key, data);
}

std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, std::size_t length) {
  constexpr std::size_t max_length = 255 * 32;  // RFC 5869 2.3: L <= 255 * HashLen
  constexpr std::size_t max_input = 1 << 20;
  if (length == 0 || length > max_length || key.size() > max_input || salt.size() > max_input ||
      info.size() > 1024)
    fail("hkdf: a length out of range");
  std::string out(length, '\0');
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  const auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  std::size_t out_length = length;
  const bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) > 0 &&
                  EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
                  EVP_PKEY_CTX_set1_hkdf_salt(ctx, bytes(salt), static_cast<int>(salt.size())) > 0 &&
                  EVP_PKEY_CTX_set1_hkdf_key(ctx, bytes(key), static_cast<int>(key.size())) > 0 &&
                  EVP_PKEY_CTX_add1_hkdf_info(ctx, bytes(info), static_cast<int>(info.size())) > 0 &&
                  EVP_PKEY_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_length) > 0 &&
                  out_length == length;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) fail("hkdf failed");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string_view as_bytes(const sha256_digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string_view as_bytes(const sha1_digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string to_hex(const sha256_digest& digest) { return to_hex(as_bytes(digest)); }

std::string base64url_encode(std::string_view bytes) { return encode(bytes, b64url_alphabet, false); }

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, b64url_alphabet);
}

std::string base64_encode(std::string_view bytes) { return encode(bytes, b64_alphabet, true); }

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return decode(text.substr(0, text.size() - pad), b64_alphabet);
}

std::string uuid_v4() { return uuid_from_bytes(random_bytes(16)); }

std::string uuid_from_bytes(std::string_view bytes) {
  if (bytes.size() < 16) fail("uuid: fewer than 16 bytes");
  std::string b(bytes.substr(0, 16));
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  const std::string h = to_hex(b);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20);
}

}  // namespace gatehouse::crypto
