#pragma once
// HMAC-SHA256 signatures for the local object store's time-limited URLs:
//   sig = hex(HMAC-SHA256(key, "v1\n" + object_key + "\n" + expires)),
// and for its upload forms (the local stand-in for an S3 POST policy):
//   sig = hex(HMAC-SHA256(key, "upload v1\n" + object_key + "\n" + expires + "\n" + max_bytes)).
// The different first lines keep one kind from ever passing for the other.
#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::files {

enum class url_check {
  valid,
  invalid_signature,  // malformed or wrong; checked before expiry
  expired,            // a genuine signature whose time has passed
};

class url_signer {
 public:
  // An empty key would make every URL forgeable: throws error(internal).
  explicit url_signer(std::string key);

  // Lower-case hex, 64 characters.
  std::string signature(std::string_view object_key, std::int64_t expires) const;

  // `expires_text` and `signature_hex` come straight from the query string:
  // expires must be canonical decimal digits (as signature() formats it),
  // the signature exactly 64 lower-case hex digits, compared in constant
  // time; only then is `now <= expires` checked.
  url_check verify(std::string_view object_key, std::string_view expires_text,
                   std::string_view signature_hex, std::int64_t now) const;

  // The upload form's signature, lower-case hex, 64 characters.
  std::string upload_signature(std::string_view object_key, std::int64_t expires, std::uint64_t max_bytes) const;

  // As verify(), for a form: expires and max_bytes must be canonical decimal
  // digits (what upload_signature formats), else invalid_signature.
  url_check verify_upload(std::string_view object_key, std::string_view expires_text,
                          std::string_view max_bytes_text, std::string_view signature_hex,
                          std::int64_t now) const;

 private:
  std::string sign_text(std::string_view object_key, std::string_view expires_text) const;
  std::string sign_upload_text(std::string_view object_key, std::string_view expires_text,
                               std::string_view max_bytes_text) const;

  std::string key_;
};

}  // namespace gatehouse::files
