#pragma once
// Where the process's secrets come from, in one place: the JWT signing
// secret (HS256) and the server secret every keyed feature derives its key
// from (crypto/server_secret). Each is, in order of preference: a Secrets
// Manager secret (*_ARN), the variable itself, or a file generated once
// into DATA_DIR (mode 0600) and reused on later starts.
#include "app/config.hpp"
#include "app/store_settings.hpp"
#include "crypto/server_secret.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {

struct server_keys {
  std::string jwt_current;                // signs and verifies
  std::vector<std::string> jwt_previous;  // AWSPREVIOUS of JWT_SECRET_ARN: verifies only
  crypto::server_secret root;
};

// Reads or fetches both. `plumbing` is the AWS client (null without any AWS
// service): the *_ARN secrets are fetched through it, once. Any failure is
// a config_error naming the variable and the reason, never a value.
server_keys load_server_keys(const config& cfg, const aws_plumbing* plumbing);

// The secret in `path`, or a new random one written there with O_EXCL
// (another process starting at the same moment wins, and both use its
// secret). `variable` names the setting in errors and the log line.
std::string load_or_create_secret_file(const std::filesystem::path& path, std::string_view variable);

}  // namespace gatehouse::app
