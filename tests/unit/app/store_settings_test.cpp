#include "app/store_settings.hpp"

#include "files/file_inventory.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace gatehouse::app {
namespace {

namespace fs = std::filesystem;

class temp_dir {
 public:
  temp_dir() : path_(fs::temp_directory_path() / ("gatehouse-store-settings-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(store_settings, the_backends_follow_the_table_and_bucket_variables) {
  config cfg;
  EXPECT_FALSE(users_in_dynamodb(cfg));
  EXPECT_FALSE(images_in_s3(cfg));
  EXPECT_FALSE(stores_use_aws(cfg, true));
  cfg.aws.images_bucket = "pictures";
  EXPECT_TRUE(images_in_s3(cfg));
  EXPECT_TRUE(stores_use_aws(cfg, true));
  EXPECT_FALSE(stores_use_aws(cfg, false));  // images not wanted: no AWS for them
  cfg.aws.users_table = "users";
  EXPECT_TRUE(users_in_dynamodb(cfg));
  EXPECT_TRUE(stores_use_aws(cfg, false));
}

TEST(store_settings, local_files_live_under_data_dir) {
  config cfg;
  cfg.data_dir = "/srv/gatehouse";
  EXPECT_EQ(database_file_of(cfg), fs::path("/srv/gatehouse/gatehouse.db"));
  EXPECT_EQ(objects_dir_of(cfg), fs::path("/srv/gatehouse/objects"));
}

TEST(open_user_backend, existing_only_never_creates_the_database) {
  temp_dir dir;
  config cfg;
  cfg.data_dir = dir.path() / "data";
  const auto b = open_user_backend(cfg, nullptr, sqlite_file::existing_only);
  EXPECT_EQ(b.database, nullptr);
  EXPECT_EQ(b.dynamodb, nullptr);
  EXPECT_FALSE(fs::exists(cfg.data_dir));
}

TEST(open_user_backend, create_or_upgrade_makes_the_file_and_existing_only_then_finds_it) {
  temp_dir dir;
  config cfg;
  cfg.data_dir = dir.path() / "data";
  {
    const auto b = open_user_backend(cfg, nullptr, sqlite_file::create_or_upgrade);
    ASSERT_NE(b.database, nullptr);
    EXPECT_TRUE(fs::is_regular_file(database_file_of(cfg)));
  }
  const auto again = open_user_backend(cfg, nullptr, sqlite_file::existing_only);
  EXPECT_NE(again.database, nullptr);
}

TEST(make_object_inventory, lists_local_files_without_a_bucket) {
  config cfg;
  cfg.data_dir = "/srv/gatehouse";
  const auto inventory = make_object_inventory(cfg, nullptr, 100);
  EXPECT_NE(dynamic_cast<files::file_inventory*>(inventory.get()), nullptr);
}

}  // namespace
}  // namespace gatehouse::app
