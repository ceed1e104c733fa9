#include "app/application.hpp"

#include "app/mail_setup.hpp"
#include "app/server_keys.hpp"
#include "app/store_settings.hpp"

#include "accounts/account_deletion.hpp"
#include "accounts/account_mail.hpp"
#include "accounts/account_service.hpp"
#include "accounts/answer_pacing.hpp"
#include "accounts/email_change.hpp"
#include "accounts/email_verification.hpp"
#include "accounts/one_time_tokens.hpp"
#include "accounts/password_check.hpp"
#include "accounts/password_reset.hpp"
#include "accounts/profile_pictures.hpp"
#include "api/routes.hpp"
#include "auth/bcrypt_gate.hpp"
#include "auth/access_tokens.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "base/clock.hpp"
#include "base/log.hpp"
#include "crypto/server_secret.hpp"
#include "dynamodb/dynamodb_idempotency_store.hpp"
#include "dynamodb/dynamodb_rate_limiter.hpp"
#include "dynamodb/dynamodb_schema.hpp"
#include "dynamodb/dynamodb_token_store.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "files/file_object_store.hpp"
#include "images/pending_uploads.hpp"
#include "mail/mailer.hpp"
#include "s3/s3_object_store.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_idempotency_store.hpp"
#include "sqlite/sqlite_rate_limiter.hpp"
#include "sqlite/sqlite_token_store.hpp"
#include "sqlite/sqlite_user_store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace gatehouse::app {

struct application::parts {
  parts(const config& cfg, const env_lookup& env)
      // bcrypt is CPU-bound: more at once than cores only slows each one.
      : bcrypt(cfg.bcrypt_concurrency ? cfg.bcrypt_concurrency : std::max(1u, std::thread::hardware_concurrency()),
               cfg.bcrypt_queue_depth),
        passwords(cfg.bcrypt_cost, &bcrypt) {
    if (cfg.aws.any()) build_aws(cfg, env);
    keys = load_server_keys(cfg, cfg.aws.any() ? &plumbing : nullptr);
    tokens = std::make_unique<auth::access_tokens>(keys->tokens,
                                                   auth::token_settings{.issuer = cfg.jwt_issuer, .audience = cfg.jwt_audience});
    build_user_store(cfg);
    build_object_store(cfg);
    uploads = std::make_unique<images::pending_uploads>(
        *images, images::upload_settings{cfg.max_pending_uploads, cfg.upload_form_ttl_seconds}, system_now_seconds);
    if (local_files) upload_sweep_every = std::chrono::seconds(cfg.upload_sweep_interval_seconds);
    refresh_tokens = std::make_unique<auth::refresh_token_service>(
        *token_store,
        keys->root.key_for(crypto::key_purpose::refresh_successors),
        auth::refresh_settings{cfg.refresh_token_ttl_seconds, cfg.refresh_reuse_grace_seconds,
                               cfg.session_max_age_seconds, cfg.max_sessions_per_user},
        system_now_ms);
    limits = std::make_unique<auth::login_limits>(
        *limiter,
        // Keys the counters' hashes, so the store never holds e-mails or IPs
        // in a form a dictionary could undo.
        keys->root.key_for(crypto::key_purpose::rate_limit_counters),
        cfg.rate_limits);
    build_account_mail(cfg);
    one_time = std::make_unique<accounts::one_time_tokens>(keys->root.key_for(crypto::key_purpose::one_time_tokens),
                                                           system_now_seconds);
    password = std::make_unique<accounts::password_check>(passwords, *limits, system_now_seconds);
    verification = std::make_unique<accounts::email_verification>(*users, *one_time, *account_mail, *limits, pacing,
                                                                  cfg.email_verification, system_now_seconds);
    resets = std::make_unique<accounts::password_reset>(*users, passwords, *one_time, *account_mail, *limits,
                                                        *refresh_tokens, pacing, system_now_seconds);
    email_changes =
        std::make_unique<accounts::email_change>(*users, *password, *one_time, *account_mail, *limits, system_now_seconds);
    deletion = std::make_unique<accounts::account_deletion>(*users, *password, *refresh_tokens, *images);
    accounts = std::make_unique<accounts::account_service>(
        *users, passwords, *tokens, *refresh_tokens, *limits, *password, *verification, *account_mail, system_now_seconds,
        accounts::account_settings{cfg.access_token_ttl_seconds});
    pictures = std::make_unique<accounts::profile_pictures>(*users, *images, *uploads,
                                                            accounts::picture_settings{cfg.max_image_bytes});
    idempotency = std::make_unique<idempotency::ledger>(
        *idempotency_records, keys->root.key_for(crypto::key_purpose::idempotency_records),
        keys->root.key_for(crypto::key_purpose::idempotent_answers), system_now_seconds,
        idempotency::ledger_settings{.lease_seconds = cfg.idempotency_lease_seconds});
    services = std::make_unique<api::services>(
        api::services{*accounts, *pictures, *verification, *resets, *email_changes, *deletion, *images, *idempotency, *tokens,
                      api::api_settings{cfg.trust_proxy}});
    pipeline = std::make_unique<http::pipeline>(api::make_router(*services, local_files),
                                                http::cors_policy{cfg.cors_origins},
                                                std::chrono::milliseconds(cfg.request_timeout_ms));
  }

  void build_aws(const config& cfg, const env_lookup& env) { plumbing = make_aws_plumbing(cfg, env, system_now_seconds); }

  // The transport, the mailer over it, and the letters; templates are read
  // and checked now, so a broken one stops the start, not a sign-up.
  void build_account_mail(const config& cfg) {
    mail_out = make_mail_transport(cfg, cfg.aws.any() ? &plumbing : nullptr);
    if (mail_out) {
      mail::retry_policy retries;
      retries.total_budget = cfg.mail.retry_budget;
      mailer = std::make_unique<mail::mailer>(*mail_out, cfg.mail.from, retries, system_now_seconds);
    }
    try {
      account_mail = std::make_unique<accounts::account_mail>(
          mailer.get(), accounts::mail_settings{cfg.mail.app_name, cfg.mail.app_url, cfg.mail.templates_dir});
    } catch (const std::invalid_argument& e) {
      throw config_error(std::string("MAIL_TEMPLATES_DIR: ") + e.what());
    }
  }

  void build_user_store(const config& cfg) {
    auto backend = open_user_backend(cfg, plumbing.client.get(), sqlite_file::create_or_upgrade);
    if (backend.dynamodb) {
      dynamodb = std::move(backend.dynamodb);
      user_tables = backend.tables;
      users = std::make_unique<dynamodb::dynamodb_user_store>(*dynamodb, user_tables, system_now_seconds);
      token_store = std::make_unique<dynamodb::dynamodb_token_store>(*dynamodb, user_tables.tokens);
      limiter = std::make_unique<dynamodb::dynamodb_rate_limiter>(*dynamodb, user_tables.limits);
      idempotency_records = std::make_unique<dynamodb::dynamodb_idempotency_store>(*dynamodb, user_tables.idempotency);
      return;
    }
    auto& db = backend.database;
    users = std::make_unique<sqlite::sqlite_user_store>(db);
    token_store = std::make_unique<sqlite::sqlite_token_store>(db);
    limiter = std::make_unique<sqlite::sqlite_rate_limiter>(db);
    idempotency_records = std::make_unique<sqlite::sqlite_idempotency_store>(std::move(db));
  }

  void build_object_store(const config& cfg) {
    if (images_in_s3(cfg)) {
      images = std::make_unique<s3::s3_object_store>(*plumbing.client, bucket_settings_of(cfg), system_now_seconds);
      return;
    }
    auto files = std::make_unique<files::file_object_store>(
        objects_dir_of(cfg),
        keys->root.key_for(crypto::key_purpose::file_urls),
        cfg.public_url, std::chrono::seconds(cfg.image_url_ttl_seconds));
    local_files = files.get();
    images = std::move(files);
  }

  // The access-token keys and the server secret every keyed feature
  // derives its key from (app/server_keys).
  std::optional<server_keys> keys;
  auth::bcrypt_gate bcrypt;  // every hash and verify of `passwords`
  auth::password_hasher passwords;
  std::unique_ptr<auth::access_tokens> tokens;  // signs with the current key; also verifies with the previous ones

  // Present only when an AWS backend is configured.
  aws_plumbing plumbing;
  std::unique_ptr<dynamodb::dynamodb_client> dynamodb;
  dynamodb::user_tables user_tables;

  std::unique_ptr<users::user_store> users;
  std::unique_ptr<auth::refresh_token_store> token_store;  // beside the users, on the same backend
  std::unique_ptr<auth::rate_limiter> limiter;              // likewise
  std::unique_ptr<idempotency::idempotency_store> idempotency_records;  // likewise
  std::unique_ptr<idempotency::ledger> idempotency;
  std::unique_ptr<images::object_store> images;
  files::file_object_store* local_files = nullptr;  // serves GET /files when images are local
  std::unique_ptr<images::pending_uploads> uploads;
  // Local images only: S3's lifecycle rule expires the upload prefix there.
  std::optional<std::chrono::seconds> upload_sweep_every;

  std::unique_ptr<auth::refresh_token_service> refresh_tokens;
  std::unique_ptr<auth::login_limits> limits;
  std::unique_ptr<mail::transport> mail_out;  // null: MAIL_TRANSPORT=off
  std::unique_ptr<mail::mailer> mailer;
  std::unique_ptr<accounts::account_mail> account_mail;
  std::unique_ptr<accounts::one_time_tokens> one_time;
  accounts::answer_pacing pacing;  // the public mail routes' timing
  std::unique_ptr<accounts::password_check> password;
  std::unique_ptr<accounts::email_verification> verification;
  std::unique_ptr<accounts::password_reset> resets;
  std::unique_ptr<accounts::email_change> email_changes;
  std::unique_ptr<accounts::account_deletion> deletion;
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
    // Local images only, like the sweep: what a killed write left behind.
    auto* files = parts_->local_files;
    jobs.push_back({"remove stale temporary files", *parts_->upload_sweep_every, [files] {
                      if (const auto removed = files->remove_stale_temporaries(std::chrono::hours(1)))
                        log::info("removed temporary files of writes that never finished", {{"files_removed", removed}});
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
      *p.dynamodb, p.user_tables, system_now_seconds, [&](const dynamodb::backfill_progress& b) {
        progress("dynamodb: scanned " + std::to_string(b.scanned) + " users, " + std::to_string(b.claimed) +
                 " claims written, " + std::to_string(b.existing) + " already present, " +
                 std::to_string(b.conflicts) + " conflicts, " + std::to_string(b.skipped) + " skipped");
      });
  if (done.conflicts > 0)
    progress("dynamodb: " + std::to_string(done.conflicts) +
             " users share an e-mail with another user; only the first can log in (see the log)");
}

}  // namespace gatehouse::app
