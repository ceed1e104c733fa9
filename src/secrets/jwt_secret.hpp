#pragma once
// The JWT signing keys kept in one Secrets Manager secret, fetched once at
// start-up (cold start on Lambda) and kept for the life of the process.
//
// The SecretString is either the key itself (plain text, used byte for
// byte) or a JSON object whose "jwt_secret" member (a string) is the key;
// either way 32..4096 bytes. Rotation: a new version takes AWSCURRENT and
// the old one AWSPREVIOUS; Gatehouse signs with AWSCURRENT and also
// verifies with AWSPREVIOUS.
#include "secrets/secrets_manager_client.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::secrets {

inline constexpr std::size_t min_jwt_secret_bytes = 32;
inline constexpr std::size_t max_jwt_secret_bytes = 4096;

// The key a SecretString holds (see above). Throws secret_error saying
// what is wrong (too short, too long, a JSON object without a string
// "jwt_secret"), never what the value is.
std::string jwt_secret_from(std::string_view secret_string);

struct jwt_secrets {
  std::string current;                  // AWSCURRENT: signs and verifies
  std::optional<std::string> previous;  // AWSPREVIOUS: verifies only
};

// Two GetSecretValue calls: AWSCURRENT, which must exist and be usable
// (secret_error otherwise), then AWSPREVIOUS, whose absence is normal
// (a secret never rotated). A previous version that holds no usable key
// is left out with a warning: Gatehouse never signed anything with it.
// Errors reaching the service propagate (storage_unavailable).
jwt_secrets fetch_jwt_secrets(secrets_manager_client& client, std::string_view secret_id);

}  // namespace gatehouse::secrets
