#pragma once
// Keys kept in Secrets Manager secrets (the JWT signing secret, the server
// secret), fetched once at start-up (cold start on Lambda) and kept for the
// life of the process.
//
// A SecretString is either the key itself (plain text, used byte for byte)
// or a JSON object whose member named by the caller ("jwt_secret",
// "server_secret"), a string, is the key; either way 32..4096 bytes.
// Rotation: a new version takes AWSCURRENT and the old one AWSPREVIOUS.
#include "secrets/secrets_manager_client.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::secrets {

inline constexpr std::size_t min_key_bytes = 32;
inline constexpr std::size_t max_key_bytes = 4096;

// The key a SecretString holds (see above). Throws secret_error saying
// what is wrong (too short, too long, a JSON object without a string
// `member`), never what the value is.
std::string key_from(std::string_view secret_string, std::string_view member);

struct fetched_keys {
  std::string current;                  // AWSCURRENT
  std::optional<std::string> previous;  // AWSPREVIOUS, when asked for and usable
};

enum class stages {
  current_only,          // the server secret: derived keys follow AWSCURRENT
  current_and_previous,  // the JWT secret: AWSCURRENT signs, AWSPREVIOUS still verifies
};

// GetSecretValue for AWSCURRENT, which must exist and be usable
// (secret_error otherwise), then, when asked, AWSPREVIOUS, whose absence
// is normal (a secret never rotated). A previous version that holds no
// usable key is left out with a warning: nothing was made with it.
// Errors reaching the service propagate (storage_unavailable).
fetched_keys fetch_keys(secrets_manager_client& client, std::string_view secret_id, std::string_view member,
                        stages wanted);

}  // namespace gatehouse::secrets
