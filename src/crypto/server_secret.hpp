#pragma once
// The server secret and the keys derived from it: one secret (SERVER_SECRET,
// SERVER_SECRET_ARN or DATA_DIR/server-secret) from which every keyed
// feature derives a key of its own by purpose (HKDF-SHA256, RFC 5869), so
// no key serves two purposes and no feature depends on how tokens are
// signed. Token signing keys are separate and never derived from it.
#include <string>
#include <string_view>

namespace gatehouse::crypto {

// The purposes, one per keyed feature. A new feature adds a line; changing
// a line changes that feature's key (which is how to version it).
namespace key_purpose {
inline constexpr std::string_view refresh_successors = "gatehouse/refresh-successors/v1";
inline constexpr std::string_view rate_limit_counters = "gatehouse/rate-limit-counters/v1";
inline constexpr std::string_view file_urls = "gatehouse/file-urls/v1";
inline constexpr std::string_view one_time_tokens = "gatehouse/one-time-tokens/v1";
inline constexpr std::string_view idempotency_records = "gatehouse/idempotency-records/v1";
inline constexpr std::string_view idempotent_answers = "gatehouse/idempotent-answers/v1";
// The second factor: sealing TOTP secrets at rest (mfa/sealed_secret) and
// hashing recovery codes (mfa/recovery_codes). Two keys, so a leak of one
// use's outputs says nothing about the other's.
inline constexpr std::string_view mfa_secrets = "gatehouse/mfa-secrets/v1";
inline constexpr std::string_view mfa_recovery_codes = "gatehouse/mfa-recovery-codes/v1";
}  // namespace key_purpose

// The secret's accepted size, whatever its source.
inline constexpr std::size_t min_server_secret_bytes = 32;
inline constexpr std::size_t max_server_secret_bytes = 4096;

class server_secret {
 public:
  explicit server_secret(std::string secret) : secret_(std::move(secret)) {}

  // A 32-byte key for `purpose` (one of key_purpose): HKDF-SHA256 with the
  // secret as input keying material, a fixed salt and the purpose as info.
  std::string key_for(std::string_view purpose) const;

 private:
  std::string secret_;  // never logged, never leaves this object
};

}  // namespace gatehouse::crypto
