#pragma once
// AWS credentials and where they come from.
#include <cstdint>
#include <optional>
#include <string>

namespace gatehouse::aws {

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged
  std::string session_token;      // empty when none; never logged
  std::optional<std::int64_t> expires_at;  // unix seconds, for temporary credentials
};

class credentials_provider {
 public:
  virtual ~credentials_provider() = default;
  // Current credentials, refreshed before they expire. Thread-safe.
  // Throws gatehouse::error(unavailable, "storage_unavailable") when none can be had.
  virtual credentials get() = 0;
};

}  // namespace gatehouse::aws
