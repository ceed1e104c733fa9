#pragma once
// Where AWS credentials come from, in the order the AWS SDKs look:
//   1. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
//      (+ AWS_SESSION_TOKEN) — what Lambda sets;
//   2. the container credentials endpoint (ECS task roles, EKS Pod
//      Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (appended to
//      http://169.254.170.2; wins when both are set, as in the SDKs) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI, authorised by
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every refresh;
//      wins over the next) or AWS_CONTAINER_AUTHORIZATION_TOKEN;
//   3. the shared files: AWS_SHARED_CREDENTIALS_FILE (default
//      $HOME/.aws/credentials) and AWS_CONFIG_FILE (default
//      $HOME/.aws/config), profile AWS_PROFILE (default "default").
// Only static keys are read from a profile: role_arn, credential_process,
// sso_* and web identity settings are not supported and are ignored.
// No secret value ever appears in an exception message or a log line.
#include "aws/credentials.hpp"
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "base/env.hpp"
#include "base/utc_time.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::aws {

// The provider chain above. Cold start: this only copies the variables it
// may need; which provider is used is decided once, at the first get()
// (that is when files are read or the endpoint is called), and kept for
// the life of the provider — also when nothing was configured: get() then
// throws storage_unavailable naming the variables to set. `http` must
// outlive the provider; `now_seconds` (unix seconds) defaults to the
// system clock.
std::unique_ptr<credentials_provider> make_default_credentials(
    const env_lookup& env, http_client& http, std::function<std::int64_t()> now_seconds = {});

// AWS_REGION, else AWS_DEFAULT_REGION, else `region` of the profile
// (AWS_PROFILE) in the config file (AWS_CONFIG_FILE or $HOME/.aws/config;
// read only when neither variable is set, so never on Lambda). nullopt
// when none is set. Throws std::invalid_argument naming the source when
// the value is not a region name ([A-Za-z0-9-], at most 64) or the
// config file cannot be used (unreadable, larger than 1 MiB).
std::optional<std::string> region_from(const env_lookup& env);

// Fixed credentials (the environment, a profile). Never refreshed.
class static_credentials final : public credentials_provider {
 public:
  explicit static_credentials(credentials creds);
  credentials get() override;

 private:
  credentials creds_;
};

// (1) nullopt unless both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are
// set and non-empty; AWS_SESSION_TOKEN is optional. Throws
// storage_unavailable when a value holds characters a key cannot have.
std::optional<credentials> credentials_from_environment(const env_lookup& env);

// ---- (3) shared files -------------------------------------------------

inline constexpr std::size_t max_shared_file_bytes = 1024 * 1024;

struct shared_files {
  std::optional<std::filesystem::path> credentials_file;  // nullopt: no variable, no HOME
  std::optional<std::filesystem::path> config_file;
  std::string profile = "default";
};

// Paths and profile from AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE
// (a leading "~/" is $HOME), HOME and AWS_PROFILE. No I/O.
shared_files shared_files_from(const env_lookup& env);

// section name -> key -> value, as written (section names trimmed, keys
// lower-cased). Total on any bytes: '#' or ';' at the start of a line or
// after whitespace starts a comment; whitespace around '=' and names is
// dropped; lines without '=' and keys outside a section are ignored; a
// malformed section header ends the current section; indented lines
// under a key with an empty value (nested settings such as `s3 =`) are
// skipped. Later values win.
using ini_file = std::map<std::string, std::map<std::string, std::string>>;
ini_file parse_ini(std::string_view text);

// The profile's settings from both files, the credentials file winning
// key by key; empty when neither file has the profile. In the config
// file the section is "[profile NAME]" (also "[default]" for default).
// A missing file counts as empty. Throws storage_unavailable when a file
// exists but cannot be read or is larger than max_shared_file_bytes.
std::map<std::string, std::string> load_profile(const shared_files& files);

// aws_access_key_id, aws_secret_access_key, aws_session_token of the
// profile; nullopt when either of the first two is missing or empty.
// Throws as load_profile does, and storage_unavailable for a malformed key.
std::optional<credentials> credentials_from_profile(const shared_files& files);

// Reads the files at the first get() and serves what it read from then
// on. get() throws storage_unavailable when the profile has no keys.
class shared_file_credentials final : public credentials_provider {
 public:
  explicit shared_file_credentials(shared_files files);
  credentials get() override;

 private:
  shared_files files_;
  std::mutex mutex_;
  std::optional<credentials> loaded_;
};

// ---- (2) the container endpoint ---------------------------------------

inline constexpr std::string_view ecs_container_host = "169.254.170.2";

struct container_uri {
  endpoint ep;            // base_path always empty
  std::string path = "/";  // as on the wire
  std::string query;      // without '?'
};

// Parses http(s)://host[:port][/path][?query], no userinfo, no fragment,
// printable ASCII only. Plain http only to the hosts the SDKs allow:
// loopback (127.0.0.0/8, ::1, localhost), 169.254.170.2 (ECS),
// 169.254.170.23 and fd00:ec2::23 (EKS Pod Identity). nullopt otherwise.
std::optional<container_uri> parse_container_uri(std::string_view uri);

struct container_source {
  container_uri uri;
  std::optional<std::string> authorization_token;
  std::optional<std::filesystem::path> authorization_token_file;  // wins over the token
};

// nullopt when neither URI variable is set (or both are empty). Throws
// storage_unavailable naming the variable when the URI is not acceptable.
std::optional<container_source> container_source_from(const env_lookup& env);

// Temporary credentials from the endpoint: GET, 200 with
// {"AccessKeyId","SecretAccessKey","Token","Expiration":"RFC 3339"}.
// Cached, and fetched again from `refresh_before_expiry` before they
// expire. One caller refreshes at a time; while it does, other callers
// get the cached value if it has not expired yet, or wait for the
// outcome. A failed refresh while the cached value is still valid logs a
// warning and serves that value (no further attempt for
// `min_refresh_interval`); with nothing valid left it throws
// storage_unavailable.
class container_credentials final : public credentials_provider {
 public:
  static constexpr std::int64_t refresh_before_expiry = 300;  // seconds
  static constexpr std::int64_t min_refresh_interval = 10;    // seconds, while the cache is valid
  static constexpr std::size_t max_response_bytes = 64 * 1024;
  static constexpr std::size_t max_token_file_bytes = 16 * 1024;

  container_credentials(container_source source, http_client& http,
                        std::function<std::int64_t()> now_seconds = {});
  credentials get() override;

 private:
  credentials fetch();  // throws on any failure; no lock held
  std::optional<std::string> authorization() const;

  container_source source_;
  http_client& http_;
  std::function<std::int64_t()> now_;

  std::mutex mutex_;
  std::condition_variable refreshed_;
  std::optional<credentials> cached_;
  bool refreshing_ = false;
  std::uint64_t attempts_ = 0;      // finished refreshes, to tell waiters theirs is done
  bool last_failed_ = false;
  std::string last_failure_;        // no secrets: our own wording and status codes
  std::int64_t next_attempt_at_ = 0;
};

// RFC 3339 date-time ("2026-11-28T17:00:00Z", fractional seconds and
// numeric offsets allowed) to unix seconds; nullopt when malformed. The
// one parser, from base (base/utc_time.hpp).
using gatehouse::parse_rfc3339;

}  // namespace gatehouse::aws
