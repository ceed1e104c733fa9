#pragma once
// Where the process's secrets come from: the access-token keys
// (app/token_keys) and the server secret every keyed feature derives its
// key from (crypto/server_secret). The server secret is, in order of
// preference: a Secrets Manager secret (SERVER_SECRET_ARN), the variable
// itself, or a file generated once into DATA_DIR (mode 0600) and reused on
// later starts.
#include "app/config.hpp"
#include "app/store_settings.hpp"
#include "auth/access_tokens.hpp"
#include "crypto/server_secret.hpp"
#include "secrets/secret_keys.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {

struct server_keys {
  auth::token_keys tokens;
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

// A *_ARN secret's key(s), fetched once through `plumbing`; config_error
// naming `variable` on any failure.
secrets::fetched_keys fetch_secret(const config& cfg, const aws_plumbing& plumbing, std::string_view variable,
                                   const std::string& secret_id, std::string_view member, secrets::stages wanted);

}  // namespace gatehouse::app
