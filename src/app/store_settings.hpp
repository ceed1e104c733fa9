#pragma once
// The store clients the configuration describes, built the same way by
// every command that reaches a store: serve and migrate (application),
// doctor and users. What each command does when a step fails stays with it.
#include "app/config.hpp"
#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "s3/s3_object_store.hpp"
#include "sqlite/database.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::app {

// The override URL when one is set, else the region's endpoint of
// `service` (load_config has validated the URL).
aws::endpoint endpoint_for(const std::optional<std::string>& url, std::string_view service, const std::string& region);

// The HTTP client, credential chain and signing client under every AWS
// store client. Nothing connects and no credential is resolved here.
// Members in dependency order: each refers to those above it.
struct aws_plumbing {
  std::unique_ptr<aws::http_client> http;
  std::unique_ptr<aws::credentials_provider> credentials;
  std::unique_ptr<aws::aws_client> client;
};
aws_plumbing make_aws_plumbing(const config& cfg, const env_lookup& env, std::function<std::int64_t()> now_seconds);

// Requires cfg.aws.users_table.
std::unique_ptr<dynamodb::dynamodb_client> make_dynamodb_client(const config& cfg, aws::aws_client& aws);
dynamodb::user_tables user_tables_of(const config& cfg);

// Requires cfg.aws.images_bucket.
s3::bucket_settings bucket_settings_of(const config& cfg);

// DATA_DIR/gatehouse.db.
std::filesystem::path database_file_of(const config& cfg);

// The SQLite store for commands that only read or repair it: nullptr when
// the file does not exist, which is never created here (a wrong DATA_DIR
// must not look like an empty store). Nothing is opened yet.
std::shared_ptr<sqlite::database> existing_database(const config& cfg);

}  // namespace gatehouse::app
