#include "app/application.hpp"

#include "app/store_settings.hpp"

#include "accounts/account_service.hpp"
#include "accounts/profile_pictures.hpp"
#include "api/routes.hpp"
#include "auth/bcrypt_gate.hpp"
#include "auth/jwt.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "dynamodb/dynamodb_rate_limiter.hpp"
#include "dynamodb/dynamodb_schema.hpp"
#include "dynamodb/dynamodb_token_store.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "files/file_object_store.hpp"
#include "images/pending_uploads.hpp"
#include "s3/s3_object_store.hpp"
#include "secrets/jwt_secret.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_rate_limiter.hpp"
#include "sqlite/sqlite_token_store.hpp"
#include "sqlite/sqlite_user_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace gatehouse::app {
namespace {

constexpr std::size_t max_secret_file_bytes = 4096;

std::optional<std::string> read_secret_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(max_secret_file_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() < 32 || text.size() > max_secret_file_bytes)
    throw config_error("JWT_SECRET: " + path.string() + " holds no usable secret (32 bytes or more); remove it or set JWT_SECRET");
  return text;
}

std::int64_t system_now() { return static_cast<std::int64_t>(std::time(nullptr)); }
std::chrono::milliseconds system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

}  // namespace

std::string load_or_create_jwt_secret(const config& cfg) {
  if (cfg.jwt_secret) return *cfg.jwt_secret;
  std::filesystem::create_directories(cfg.data_dir);
  const auto path = cfg.data_dir / "jwt-secret";
  if (auto existing = read_secret_file(path)) return *existing;

  const std::string secret = crypto::base64url_encode(crypto::random_bytes(48));
  // O_EXCL: if another process created it first, use theirs.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      if (auto theirs = read_secret_file(path)) return *theirs;
    }
    throw config_error("JWT_SECRET: unset, and " + path.string() + " cannot be created: " + std::strerror(errno));
  }
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw config_error("JWT_SECRET: unset, and writing " + path.string() + " failed");
  log::info("JWT_SECRET is unset: generated a secret for local use", {{"path", path.string()}});
  return secret;
}

struct application::parts {
  parts(const config& cfg, const env_lookup& env)
      // bcrypt is CPU-bound: more at once than cores only slows each one.
      : bcrypt(cfg.bcrypt_concurrency ? cfg.bcrypt_concurrency : std::max(1u, std::thread::hardware_concurrency()),
               cfg.bcrypt_queue_depth),
        passwords(cfg.bcrypt_cost, &bcrypt) {
    if (cfg.aws.any()) build_aws(cfg, env);
    std::vector<std::string> previous_secrets;
    if (cfg.aws.jwt_secret_arn) {
      auto fetched = fetch_jwt_secrets(cfg);
      jwt_secret = std::move(fetched.current);
      if (fetched.previous) previous_secrets.push_back(std::move(*fetched.previous));
    } else {
      jwt_secret = load_or_create_jwt_secret(cfg);
    }
    tokens = std::make_unique<auth::jwt_codec>(jwt_secret, std::move(previous_secrets), cfg.jwt_issuer);
    build_user_store(cfg);
    build_object_store(cfg);
    uploads = std::make_unique<images::pending_uploads>(
        *images, images::upload_settings{cfg.max_pending_uploads, cfg.upload_form_ttl_seconds}, system_now);
    if (local_files) upload_sweep_every = std::chrono::seconds(cfg.upload_sweep_interval_seconds);
    refresh_tokens = std::make_unique<auth::refresh_token_service>(
        *token_store,
        derived_key("gatehouse refresh tokens v1"),
        auth::refresh_settings{cfg.refresh_token_ttl_seconds, cfg.refresh_reuse_grace_seconds,
                               cfg.session_max_age_seconds, cfg.max_sessions_per_user},
        system_now_ms);
    limits = std::make_unique<auth::login_limits>(
        *limiter,
        // Keys the counters' hashes, so the store never holds e-mails or IPs
        // in a form a dictionary could undo.
        derived_key("gatehouse rate limits v1"),
        cfg.rate_limits);
    accounts = std::make_unique<accounts::account_service>(
        *users, passwords, *tokens, *refresh_tokens, *limits, system_now,
        accounts::account_settings{cfg.access_token_ttl_seconds});
    pictures = std::make_unique<accounts::profile_pictures>(*users, *images, *uploads,
                                                            accounts::picture_settings{cfg.max_image_bytes});
    services = std::make_unique<api::services>(
        api::services{*accounts, *pictures, *images, api::api_settings{cfg.trust_proxy}});
    pipeline = std::make_unique<http::pipeline>(api::make_router(*services, local_files),
                                                http::cors_policy{cfg.cors_origins});
  }

  // One secret configures every keyed feature: each gets a key of its own,
  // derived from the current JWT secret, so no key serves two purposes.
  std::string derived_key(std::string_view purpose) const {
    return std::string(crypto::as_bytes(crypto::hmac_sha256(jwt_secret, purpose)));
  }

  void build_aws(const config& cfg, const env_lookup& env) { plumbing = make_aws_plumbing(cfg, env, system_now); }

  // JWT_SECRET_ARN: AWSCURRENT and AWSPREVIOUS, fetched once here and kept
  // for the life of the process. Any failure stops the start with one
  // line naming the variable and the reason, never the value.
  secrets::jwt_secrets fetch_jwt_secrets(const config& cfg) {
    secrets::secrets_manager_client client(
        *plumbing.client, endpoint_for(cfg.aws.secrets_manager_endpoint, "secretsmanager", cfg.aws.region),
        cfg.aws.region);
    try {
      auto fetched = secrets::fetch_jwt_secrets(client, *cfg.aws.jwt_secret_arn);
      log::info("JWT secret fetched from Secrets Manager",
                {{"secret_id", *cfg.aws.jwt_secret_arn}, {"previous_version", fetched.previous.has_value()}});
      return fetched;
    } catch (const secrets::secret_error& e) {
      throw config_error(std::string("JWT_SECRET_ARN: ") + e.what());
    } catch (const std::exception& e) {
      // Unreachable, failing or throttling (storage_unavailable after the
      // retries), or no credentials: our wording and status codes only.
      throw config_error(std::string("JWT_SECRET_ARN: the secret could not be fetched: ") + e.what());
    }
  }

  void build_user_store(const config& cfg) {
    if (cfg.aws.users_table) {
      dynamodb = make_dynamodb_client(cfg, *plumbing.client);
      user_tables = user_tables_of(cfg);
      users = std::make_unique<dynamodb::dynamodb_user_store>(*dynamodb, user_tables, system_now);
      token_store = std::make_unique<dynamodb::dynamodb_token_store>(*dynamodb, user_tables.tokens);
      limiter = std::make_unique<dynamodb::dynamodb_rate_limiter>(*dynamodb, user_tables.limits);
      return;
    }
    // Creates or upgrades the schema: `make run` on a fresh clone just works.
    auto db = sqlite::database::open(database_file_of(cfg));
    users = std::make_unique<sqlite::sqlite_user_store>(db);
    token_store = std::make_unique<sqlite::sqlite_token_store>(db);
    limiter = std::make_unique<sqlite::sqlite_rate_limiter>(std::move(db));
  }

  void build_object_store(const config& cfg) {
    if (cfg.aws.images_bucket) {
      images = std::make_unique<s3::s3_object_store>(*plumbing.client, bucket_settings_of(cfg), system_now);
      return;
    }
    auto files = std::make_unique<files::file_object_store>(
        cfg.data_dir / "objects",
        derived_key("gatehouse file urls v1"),
        cfg.public_url, std::chrono::seconds(cfg.image_url_ttl_seconds));
    local_files = files.get();
    images = std::move(files);
  }

  // AWSCURRENT with JWT_SECRET_ARN. The file-URL, refresh-successor and
  // rate-limit keys are derived from it alone, so a rotation changes them
  // too (README, "Secrets Manager").
  std::string jwt_secret;
  auth::bcrypt_gate bcrypt;  // every hash and verify of `passwords`
  auth::password_hasher passwords;
  std::unique_ptr<auth::jwt_codec> tokens;  // signs with jwt_secret; also verifies with AWSPREVIOUS

  // Present only when an AWS backend is configured.
  aws_plumbing plumbing;
  std::unique_ptr<dynamodb::dynamodb_client> dynamodb;
  dynamodb::user_tables user_tables;

  std::unique_ptr<users::user_store> users;
  std::unique_ptr<auth::refresh_token_store> token_store;  // beside the users, on the same backend
  std::unique_ptr<auth::rate_limiter> limiter;              // likewise
  std::unique_ptr<images::object_store> images;
  files::file_object_store* local_files = nullptr;  // serves GET /files when images are local
  std::unique_ptr<images::pending_uploads> uploads;
  // Local images only: S3's lifecycle rule expires the upload prefix there.
  std::optional<std::chrono::seconds> upload_sweep_every;

  std::unique_ptr<auth::refresh_token_service> refresh_tokens;
  std::unique_ptr<auth::login_limits> limits;
  std::unique_ptr<accounts::account_service> accounts;
  std::unique_ptr<accounts::profile_pictures> pictures;
  std::unique_ptr<api::services> services;
  std::unique_ptr<http::pipeline> pipeline;
};

application::application(const config& cfg, const env_lookup& env)
    : parts_(std::make_unique<parts>(cfg, env)) {}
application::~application() = default;

const http::pipeline& application::pipeline() const { return *parts_->pipeline; }

std::size_t application::bcrypt_threads() const { return parts_->bcrypt.capacity(); }

std::vector<application::periodic_job> application::periodic_jobs() const {
  std::vector<periodic_job> jobs;
  if (parts_->upload_sweep_every) {
    auto* uploads = parts_->uploads.get();
    jobs.push_back({"sweep dead uploads", *parts_->upload_sweep_every, [uploads] {
                      if (const auto deleted = uploads->sweep())
                        log::info("swept dead direct uploads", {{"objects_deleted", deleted}});
                    }});
  }
  return jobs;
}

void application::migrate(bool create_tables, const std::function<void(std::string_view)>& progress) {
  auto& p = *parts_;
  if (!p.dynamodb) {
    progress("sqlite: schema is current");
    return;
  }
  if (create_tables) {
    progress("dynamodb: creating missing tables");
    dynamodb::create_missing_tables(*p.dynamodb, p.user_tables);
  }
  const auto missing = dynamodb::missing_tables(*p.dynamodb, p.user_tables);
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw config_error("USERS_TABLE: table(s) missing: " + names +
                       " (deploy the stack, or run `gatehouse migrate --create-tables` against a local peer)");
  }
  progress("dynamodb: backfilling e-mail claims");
  const auto done = dynamodb::backfill_email_claims(
      *p.dynamodb, p.user_tables, system_now, [&](const dynamodb::backfill_progress& b) {
        progress("dynamodb: scanned " + std::to_string(b.scanned) + " users, " + std::to_string(b.claimed) +
                 " claims written, " + std::to_string(b.existing) + " already present, " +
                 std::to_string(b.conflicts) + " conflicts, " + std::to_string(b.skipped) + " skipped");
      });
  if (done.conflicts > 0)
    progress("dynamodb: " + std::to_string(done.conflicts) +
             " users share an e-mail with another user; only the first can log in (see the log)");
}

}  // namespace gatehouse::app
