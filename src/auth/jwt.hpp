#pragma once
// JSON Web Tokens, HS256 only (RFC 7519 / 7515).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

struct access_claims {
  std::string user_id;  // written as both `sub` and `userId`
  std::string email;
  std::int64_t issued_at = 0;   // `iat`, seconds since the epoch
  std::int64_t expires_at = 0;  // `exp`
};

class jwt_codec {
 public:
  // `secret` must be at least 32 bytes (std::invalid_argument otherwise).
  jwt_codec(std::string secret, std::string issuer);

  // Key rotation: signs with `current` only; verify() accepts a token
  // signed with `current` or with any of `previous` (tried in that order,
  // each compared in constant time). Every key must be at least 32 bytes.
  // Secrets Manager's AWSPREVIOUS is the one previous key Gatehouse passes.
  jwt_codec(std::string current, std::vector<std::string> previous, std::string issuer);

  std::string sign(const access_claims& claims) const;

  // The claims of a token whose header is exactly HS256, whose signature
  // matches (constant-time), whose `iss` is ours and whose `exp` is present
  // and not more than `leeway_seconds` in the past at `now`; else nullopt.
  std::optional<access_claims> verify(std::string_view token, std::int64_t now,
                                      std::int64_t leeway_seconds = 30) const;

 private:
  std::vector<std::string> keys_;  // [0] signs; all of them verify
  std::string issuer_;
};

}  // namespace gatehouse::auth
