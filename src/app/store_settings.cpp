#include "app/store_settings.hpp"

#include "base/clock.hpp"
#include "files/file_inventory.hpp"
#include "s3/s3_inventory.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

namespace gatehouse::app {

aws::endpoint endpoint_for(const std::optional<std::string>& url, std::string_view service,
                           const std::string& region) {
  return url ? *aws::parse_endpoint(*url) : aws::regional_endpoint(service, region);  // validated by load_config
}

aws_plumbing make_aws_plumbing(const config& cfg, const env_lookup& env, std::function<std::int64_t()> now_seconds) {
  aws_plumbing a;
  aws::http_client_options http_options;
  http_options.connect_timeout = std::chrono::milliseconds(cfg.aws.connect_timeout_ms);
  http_options.request_timeout = std::chrono::milliseconds(cfg.aws.request_timeout_ms);
  if (cfg.aws.ssl_cert_file) http_options.ca_file = *cfg.aws.ssl_cert_file;
  a.http = std::make_unique<aws::http_client>(http_options);
  a.credentials = aws::make_default_credentials(env, *a.http, now_seconds);
  aws::retry_policy retries;
  retries.max_attempts = cfg.aws.max_attempts;
  // No attempt may start once the last one could not finish in time:
  // a storage call then ends (503) within AWS_TOTAL_TIMEOUT_MS.
  retries.total_budget = std::chrono::milliseconds(
      std::max<std::int64_t>(0, cfg.aws.total_timeout_ms - cfg.aws.request_timeout_ms));
  a.client = std::make_unique<aws::aws_client>(*a.http, *a.credentials, retries, std::move(now_seconds));
  return a;
}

bool users_in_dynamodb(const config& cfg) { return cfg.aws.users_table.has_value(); }
bool images_in_s3(const config& cfg) { return cfg.aws.images_bucket.has_value(); }
bool stores_use_aws(const config& cfg, bool with_images) {
  return users_in_dynamodb(cfg) || (with_images && images_in_s3(cfg));
}

dynamodb::user_tables user_tables_of(const config& cfg) {
  return dynamodb::user_tables{*cfg.aws.users_table, cfg.aws.users_email_table, cfg.aws.refresh_tokens_table,
                               cfg.aws.rate_limits_table, cfg.aws.idempotency_table};
}

s3::bucket_settings bucket_settings_of(const config& cfg) {
  s3::bucket_settings b;
  b.bucket = *cfg.aws.images_bucket;
  b.region = cfg.aws.region;
  b.service_endpoint = endpoint_for(cfg.aws.s3_endpoint, "s3", cfg.aws.region);
  b.url_ttl = std::chrono::seconds(cfg.image_url_ttl_seconds);
  b.server_side_encryption = cfg.aws.s3_server_side_encryption;
  return b;
}

std::filesystem::path database_file_of(const config& cfg) { return cfg.data_dir / "gatehouse.db"; }
std::filesystem::path objects_dir_of(const config& cfg) { return cfg.data_dir / "objects"; }

user_backend open_user_backend(const config& cfg, aws::aws_client* aws, sqlite_file mode) {
  user_backend b;
  if (users_in_dynamodb(cfg)) {
    b.dynamodb = std::make_unique<dynamodb::dynamodb_client>(
        *aws, endpoint_for(cfg.aws.dynamodb_endpoint, "dynamodb", cfg.aws.region), cfg.aws.region);
    b.tables = user_tables_of(cfg);
    return b;
  }
  const auto file = database_file_of(cfg);
  if (mode == sqlite_file::create_or_upgrade) {
    b.database = sqlite::database::open(file);
    return b;
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) b.database = std::make_shared<sqlite::database>(file, 2);
  return b;
}

std::unique_ptr<images::object_inventory> make_object_inventory(const config& cfg, aws::aws_client* aws,
                                                                std::size_t page_size) {
  if (images_in_s3(cfg))
    return std::make_unique<s3::s3_inventory>(*aws, bucket_settings_of(cfg), system_now_seconds, page_size);
  return std::make_unique<files::file_inventory>(objects_dir_of(cfg));
}

}  // namespace gatehouse::app
