#pragma once
// The store clients the configuration describes, built the same way by
// every command that reaches a store: serve and migrate (application),
// doctor and users. Which backend holds the users and which the images is
// decided here and nowhere else; what each command builds on top (a user
// store, an admin, an integrity audit) and what it does when a step fails
// stays with it.
#include "app/config.hpp"
#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "images/object_inventory.hpp"
#include "s3/s3_object_store.hpp"
#include "sqlite/database.hpp"

#include <cstddef>
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

// Users in DynamoDB when USERS_TABLE is set, else in SQLite in DATA_DIR;
// images in S3 when PROFILE_IMAGES_BUCKET is set, else in files in DATA_DIR.
bool users_in_dynamodb(const config& cfg);
bool images_in_s3(const config& cfg);
// Whether the stores a command uses need aws_plumbing (`with_images`:
// the command reaches the images too).
bool stores_use_aws(const config& cfg, bool with_images);

// Requires cfg.aws.users_table.
dynamodb::user_tables user_tables_of(const config& cfg);

// Requires cfg.aws.images_bucket.
s3::bucket_settings bucket_settings_of(const config& cfg);

// DATA_DIR/gatehouse.db.
std::filesystem::path database_file_of(const config& cfg);
// DATA_DIR/objects: the local images.
std::filesystem::path objects_dir_of(const config& cfg);

// The backend the users live on: the DynamoDB client and tables, or the
// SQLite database. A command builds its user store, token store, admin or
// audit over it.
struct user_backend {
  std::unique_ptr<dynamodb::dynamodb_client> dynamodb;  // set when users_in_dynamodb
  dynamodb::user_tables tables{};                       // likewise
  // Otherwise; null with sqlite_file::existing_only when there is no file.
  std::shared_ptr<sqlite::database> database;
};

enum class sqlite_file {
  // serve and migrate: creates or upgrades the schema, so `make run` on a
  // fresh clone just works.
  create_or_upgrade,
  // doctor and users only read or repair: the file is never created (a
  // wrong DATA_DIR must not look like an empty store), nor opened yet.
  existing_only,
};

// `aws` must be the plumbing's client when users_in_dynamodb(cfg).
user_backend open_user_backend(const config& cfg, aws::aws_client* aws, sqlite_file mode);

// The images as doctor and users list and delete them: S3 or DATA_DIR/objects.
// `aws` must be the plumbing's client when images_in_s3(cfg).
std::unique_ptr<images::object_inventory> make_object_inventory(const config& cfg, aws::aws_client* aws,
                                                                std::size_t page_size);

}  // namespace gatehouse::app
