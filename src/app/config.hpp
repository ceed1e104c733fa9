#pragma once
// Configuration from environment variables: the only place that reads
// them. Invalid values throw config_error naming the variable and what
// it expects; the process then refuses to start.
#include "accounts/email_verification.hpp"
#include "auth/login_limits.hpp"
#include "base/env.hpp"
#include "base/log.hpp"
#include "jose/algorithm.hpp"
#include "mail/message.hpp"
#include "smtp/smtp_settings.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct config {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::filesystem::path data_dir = "data";  // "/tmp/gatehouse" on Lambda
  // JWT_ALG: what access tokens are signed with (RS256 unless set). The
  // signing key is JWT_PRIVATE_KEY (PEM) or the file JWT_PRIVATE_KEY_FILE
  // names, the AWSCURRENT of JWT_SECRET_ARN, or one generated into
  // DATA_DIR/jwt-key.pem; for HS256, JWT_SECRET or DATA_DIR/jwt-secret.
  jose::algorithm jwt_alg = jose::algorithm::rs256;
  std::optional<std::string> jwt_private_key;              // never logged
  std::optional<std::filesystem::path> jwt_private_key_file;
  // JWT_SECRET: the HS256 secret. With an asymmetric JWT_ALG it only
  // verifies, so v1's tokens keep working through an upgrade.
  std::optional<std::string> jwt_secret;  // never logged
  // LEGACY_JWT_SECRET: the Node.js original's secret; its tokens (no iss)
  // are accepted until they expire. Gatehouse never signs with it.
  std::optional<std::string> legacy_jwt_secret;  // never logged
  // SERVER_SECRET (32..4096 bytes; excludes SERVER_SECRET_ARN): every keyed
  // feature derives its key from it (crypto/server_secret). Unset, one is
  // generated into DATA_DIR/server-secret; on Lambda it must be shared.
  std::optional<std::string> server_secret;  // never logged
  // JWT_ISSUER: `iss`, and where /.well-known/openid-configuration is
  // found; an http(s) base URL (https on Lambda), PUBLIC_URL by default.
  // With HS256 any string will do, and the default is v1's "gatehouse".
  std::string jwt_issuer;
  std::optional<std::string> jwt_audience;  // JWT_AUDIENCE: `aud`, then required of every token
  std::int64_t access_token_ttl_seconds = 900;
  std::int64_t refresh_token_ttl_seconds = 30 * 86400;
  std::int64_t refresh_reuse_grace_seconds = 10;
  // IDEMPOTENCY_LEASE: how long an attempt holds its Idempotency-Key's
  // record; a retry after that takes over (the attempt's process died).
  // Longer than any request runs: API Gateway gives up after 30 s.
  std::int64_t idempotency_lease_seconds = 30;
  std::int64_t session_max_age_seconds = 90 * 86400;  // SESSION_MAX_AGE: a session ends then after its login
  std::int64_t max_sessions_per_user = 50;            // MAX_SESSIONS_PER_USER: a login revokes the oldest beyond
  int bcrypt_cost = 10;
  // BCRYPT_CONCURRENCY hashes at once (0: one per core) and
  // BCRYPT_QUEUE_DEPTH waiting; beyond, 503 server_busy (auth/bcrypt_gate).
  std::size_t bcrypt_concurrency = 0;
  std::size_t bcrypt_queue_depth = 32;
  std::size_t max_image_bytes = 5 * 1024 * 1024;
  std::int64_t image_url_ttl_seconds = 900;
  // Direct uploads (images/pending_uploads): MAX_PENDING_UPLOADS forms per
  // user at once, each working UPLOAD_FORM_TTL; the local server deletes
  // dead ones every UPLOAD_SWEEP_INTERVAL.
  std::size_t max_pending_uploads = 3;
  std::int64_t upload_form_ttl_seconds = 300;
  std::int64_t upload_sweep_interval_seconds = 600;
  std::vector<std::string> cors_origins{"*"};
  log::level log_level = log::level::info;
  std::string public_url;  // default http://<host>:<port>
  // REQUEST_TIMEOUT_MS: from a request's arrival to its answer, every
  // backend wait included (http::pipeline). At most 29 s: under API
  // Gateway's 30 s and the local server's 30 s shutdown grace. On Lambda
  // the invocation's own deadline comes first when sooner.
  std::int64_t request_timeout_ms = 25000;
  std::size_t io_threads = 0;      // 0: one per core
  std::size_t worker_threads = 0;  // 0: derived from the core count
  // RATE_LIMIT_LOGIN_PER_EMAIL_IP (failures per e-mail and address),
  // RATE_LIMIT_LOGIN_PER_EMAIL (failures per e-mail from anywhere; before
  // the per-address limit existed its default was 5/15m), RATE_LIMIT_LOGIN_PER_IP
  // (failures per address), RATE_LIMIT_LOGINS_PER_IP (every login per
  // address), RATE_LIMIT_SIGNUP_PER_IP.
  auth::limit_settings rate_limits;
  // TRUST_PROXY: how many proxies in front append to X-Forwarded-For (0:
  // none, the socket peer is the client). Always 0 on Lambda, where the
  // event names the client.
  std::size_t trust_proxy = 0;

  // MAIL_TRANSPORT: where account mail goes. Default: file:DATA_DIR/outbox
  // on the embedded store, off with USERS_TABLE or on Lambda (nobody reads
  // a Lambda's /tmp).
  struct mail_settings {
    enum class kind { file, smtp, ses, off } transport = kind::file;
    std::filesystem::path directory;  // file: (default DATA_DIR/outbox)
    smtp::smtp_settings smtp;         // smtp:// and smtps://; never logged (it may hold a password)
    mail::mailbox from{"Gatehouse", "no-reply@localhost"};  // MAIL_FROM (required for smtp and ses)
    std::string app_name = "Gatehouse";                     // APP_NAME: in subjects and texts
    std::string app_url;  // APP_URL: the page a link opens (default PUBLIC_URL + "/": the built-in page)
    std::optional<std::filesystem::path> templates_dir;  // MAIL_TEMPLATES_DIR
    std::optional<std::string> ses_configuration_set;   // SES_CONFIGURATION_SET
    // No retry of a failed send starts after this: 8 s locally, 2 s on
    // Lambda, whose 10 s timeout must also hold the request's own work.
    std::chrono::milliseconds retry_budget{8000};
  } mail;
  accounts::verification_mode email_verification = accounts::verification_mode::optional;  // EMAIL_VERIFICATION

  // AWS backends, each chosen independently: USERS_TABLE set means
  // DynamoDB for users, PROFILE_IMAGES_BUCKET set means S3 for images.
  struct aws_settings {
    std::optional<std::string> users_table;
    std::string users_email_table;  // default <USERS_TABLE>-emails
    std::string refresh_tokens_table;  // default <USERS_TABLE>-tokens
    std::string rate_limits_table;     // default <USERS_TABLE>-limits
    std::string idempotency_table;     // default <USERS_TABLE>-idempotency
    std::optional<std::string> images_bucket;
    std::string region;  // required when either backend is AWS
    std::optional<std::string> dynamodb_endpoint;  // AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL
    std::optional<std::string> s3_endpoint;        // AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
    // JWT_SECRET_ARN (an ARN or a secret name; excludes JWT_SECRET): the
    // JWT keys come from this Secrets Manager secret, fetched at start-up.
    std::optional<std::string> jwt_secret_arn;
    // SERVER_SECRET_ARN (likewise; excludes SERVER_SECRET): the server
    // secret, AWSCURRENT only, fetched at start-up.
    std::optional<std::string> server_secret_arn;
    std::optional<std::string> secrets_manager_endpoint;  // AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL
    bool uses_ses = false;                      // MAIL_TRANSPORT=ses
    std::optional<std::string> ses_endpoint;    // AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL
    std::int64_t connect_timeout_ms = 2000;
    std::int64_t request_timeout_ms = 3000;  // one attempt
    std::int64_t total_timeout_ms = 6000;    // all attempts of one storage call
    int max_attempts = 3;
    std::string s3_server_side_encryption = "AES256";
    std::optional<std::string> ssl_cert_file;
    // Whether any AWS service is used: then a region is required and the
    // AWS client plumbing is built.
    bool any() const { return users_table || images_bucket || jwt_secret_arn || server_secret_arn || uses_ses; }
  } aws;
};

using gatehouse::env_lookup;

// Reads every variable through `env` (the process environment in main,
// a map in tests).
config load_config(const env_lookup& env);

// A rate limit setting: "N/window" (N 1..1000000, window a duration from 1s
// to 7d: "5/15m", "30/300", "100/1d") or "0" (off). Throws config_error
// naming `name`.
auth::rate_limit parse_rate_limit(std::string_view name, std::string_view text);

env_lookup process_environment();

}  // namespace gatehouse::app
