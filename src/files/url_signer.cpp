#include "files/url_signer.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <charconv>
#include <utility>

namespace gatehouse::files {
namespace {

constexpr std::size_t signature_hex_chars = 64;
constexpr std::size_t max_expires_digits = 19;  // INT64_MAX has 19

bool is_lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Canonical non-negative decimal that fits int64: what std::to_string wrote.
bool parse_expires(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > max_expires_digits) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool is_canonical_max_bytes(std::string_view text) {
  std::int64_t value = 0;
  return parse_expires(text, value);  // the same rule: canonical digits that fit int64
}

}  // namespace

url_signer::url_signer(std::string key) : key_(std::move(key)) {
  if (key_.empty()) throw error(error_kind::internal, "internal", "URL signing key is empty");
}

std::string url_signer::sign_text(std::string_view object_key,
                                  std::string_view expires_text) const {
  std::string message;
  message.reserve(3 + object_key.size() + 1 + expires_text.size());
  message.append("v1\n").append(object_key).append("\n").append(expires_text);
  return crypto::to_hex(crypto::hmac_sha256(key_, message));
}

std::string url_signer::signature(std::string_view object_key, std::int64_t expires) const {
  return sign_text(object_key, std::to_string(expires));
}

url_check url_signer::verify(std::string_view object_key, std::string_view expires_text,
                             std::string_view signature_hex, std::int64_t now) const {
  std::int64_t expires = 0;
  if (!parse_expires(expires_text, expires)) return url_check::invalid_signature;
  if (signature_hex.size() != signature_hex_chars || !is_lower_hex(signature_hex))
    return url_check::invalid_signature;
  // Sign the text as received: with canonical digits it equals what signature() signed.
  if (!crypto::constant_time_equal(sign_text(object_key, expires_text), signature_hex))
    return url_check::invalid_signature;
  return now <= expires ? url_check::valid : url_check::expired;
}

std::string url_signer::sign_upload_text(std::string_view object_key, std::string_view expires_text,
                                         std::string_view max_bytes_text) const {
  std::string message;
  message.reserve(10 + object_key.size() + 1 + expires_text.size() + 1 + max_bytes_text.size());
  message.append("upload v1\n").append(object_key).append("\n").append(expires_text);
  message.append("\n").append(max_bytes_text);
  return crypto::to_hex(crypto::hmac_sha256(key_, message));
}

std::string url_signer::upload_signature(std::string_view object_key, std::int64_t expires,
                                         std::uint64_t max_bytes) const {
  return sign_upload_text(object_key, std::to_string(expires), std::to_string(max_bytes));
}

url_check url_signer::verify_upload(std::string_view object_key, std::string_view expires_text,
                                    std::string_view max_bytes_text, std::string_view signature_hex,
                                    std::int64_t now) const {
  std::int64_t expires = 0;
  if (!parse_expires(expires_text, expires) || !is_canonical_max_bytes(max_bytes_text))
    return url_check::invalid_signature;
  if (signature_hex.size() != signature_hex_chars || !is_lower_hex(signature_hex))
    return url_check::invalid_signature;
  if (!crypto::constant_time_equal(sign_upload_text(object_key, expires_text, max_bytes_text), signature_hex))
    return url_check::invalid_signature;
  return now <= expires ? url_check::valid : url_check::expired;
}

}  // namespace gatehouse::files
