// accounts::profile_pictures on in-memory stores and a clock the test
// moves: both ways a picture is recorded, and what each refuses.
#include "accounts/profile_pictures.hpp"

#include "accounts/memory_stores.hpp"
#include "crypto/crypto.hpp"
#include "http/expect_error.hpp"
#include "images/image_key.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace gatehouse::accounts {
namespace {

using namespace std::string_literals;
using testing::throws_error;

constexpr std::int64_t start_time = 1'790'000'000;
const request_origin origin{"198.51.100.7", "req-1"};
const std::string png = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"s + std::string(100, 'p');
const std::string jpeg = "\xFF\xD8\xFF\xE0"s + std::string(100, 'j');

class profile_pictures_test : public ::testing::Test {
 protected:
  void SetUp() override {
    owner.user_id = crypto::uuid_v4();
    owner.name = "Ada";
    owner.email = "ada@example.com";
    ASSERT_TRUE(users.create(owner));
  }

  std::atomic<std::int64_t> now{start_time};
  testing::memory_user_store users;
  testing::memory_object_store images;
  images::pending_uploads uploads{images, images::upload_settings{2, 300}, [this] { return now.load(); }};
  profile_pictures pictures{users, images, uploads, picture_settings{1024}};
  users::user owner;

  std::optional<std::string> stored_key() { return users.find_by_id(owner.user_id)->profile_image_key; }
};

TEST_F(profile_pictures_test, an_upload_is_stored_with_its_sniffed_type_and_recorded) {
  const auto u = pictures.upload(owner, png, origin);
  ASSERT_TRUE(u.profile_image_key);
  EXPECT_EQ(stored_key(), u.profile_image_key);
  const auto object = images.get(*u.profile_image_key);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->bytes, png);
  EXPECT_EQ(object->content_type, "image/png");
}

TEST_F(profile_pictures_test, a_new_picture_deletes_the_one_it_replaced) {
  const auto first = *pictures.upload(owner, png, origin).profile_image_key;
  const auto second = *pictures.upload(owner, jpeg, origin).profile_image_key;
  EXPECT_NE(first, second);
  EXPECT_FALSE(images.get(first));
  EXPECT_EQ(images.get(second)->content_type, "image/jpeg");
  EXPECT_EQ(images.size(), 1u);
}

TEST_F(profile_pictures_test, empty_oversized_and_non_images_are_refused_and_nothing_is_stored) {
  EXPECT_TRUE(throws_error([&] { (void)pictures.upload(owner, "", origin); }, error_kind::invalid_argument,
                           "missing_file", "image"));
  EXPECT_TRUE(throws_error([&] { (void)pictures.upload(owner, png + std::string(1024, 'x'), origin); },
                           error_kind::payload_too_large, "payload_too_large"));
  EXPECT_TRUE(throws_error([&] { (void)pictures.upload(owner, "<svg onload=alert(1)>"s, origin); },
                           error_kind::unsupported_media_type, "unsupported_media_type"));
  EXPECT_EQ(images.size(), 0u);
  EXPECT_FALSE(stored_key());
}

TEST_F(profile_pictures_test, a_user_deleted_meanwhile_leaves_no_stray_object) {
  users.erase(owner.user_id);
  EXPECT_TRUE(throws_error([&] { (void)pictures.upload(owner, png, origin); }, error_kind::not_found, "not_found"));
  EXPECT_EQ(images.size(), 0u);
}

TEST_F(profile_pictures_test, a_direct_upload_is_checked_moved_to_an_image_key_and_its_slot_freed) {
  const auto upload = pictures.begin_direct_upload(owner);
  EXPECT_EQ(images::owner_of_upload_key(upload.key), owner.user_id);
  EXPECT_EQ(upload.max_bytes, 1024u);
  EXPECT_TRUE(images.get(images::form_marker_of(upload.key))) << "the slot is taken from the start";
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, upload.key, origin); },
                           error_kind::not_found, "not_found"));

  images.put(upload.key, png, "image/whatever");  // the client's own Content-Type
  const auto u = pictures.confirm_direct_upload(owner, upload.key, origin);
  ASSERT_TRUE(u.profile_image_key);
  EXPECT_NE(*u.profile_image_key, upload.key);
  EXPECT_EQ(images.get(*u.profile_image_key)->content_type, "image/png");
  EXPECT_FALSE(images.get(upload.key));
  EXPECT_FALSE(images.get(images::form_marker_of(upload.key)));
  EXPECT_EQ(stored_key(), u.profile_image_key);
}

TEST_F(profile_pictures_test, at_most_max_pending_direct_uploads_at_once) {
  (void)pictures.begin_direct_upload(owner);
  (void)pictures.begin_direct_upload(owner);
  EXPECT_TRUE(throws_error([&] { (void)pictures.begin_direct_upload(owner); }, error_kind::resource_exhausted,
                           "rate_limited"));
}

TEST_F(profile_pictures_test, confirm_refuses_junk_keys_and_other_users_keys_before_looking) {
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, "../../etc/passwd", origin); },
                           error_kind::invalid_argument, "validation_failed", "key"));
  const auto image_key = images::new_image_key(owner.user_id, images::image_type::png);
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, image_key, origin); },
                           error_kind::invalid_argument, "validation_failed", "key"));
  users::user other = owner;
  other.user_id = crypto::uuid_v4();
  const auto theirs = pictures.begin_direct_upload(other);
  images.put(theirs.key, png, "image/png");
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, theirs.key, origin); },
                           error_kind::permission_denied, "forbidden"));
  EXPECT_TRUE(images.get(theirs.key)) << "someone else's upload is left alone";
}

TEST_F(profile_pictures_test, a_direct_upload_past_its_deadline_is_dead_and_deleted) {
  const auto upload = pictures.begin_direct_upload(owner);
  images.put(upload.key, png, "image/png");
  now += 300 + uploads.confirm_grace_seconds();
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, upload.key, origin); },
                           error_kind::not_found, "not_found"));
  EXPECT_FALSE(images.get(upload.key));
  EXPECT_FALSE(stored_key());
}

TEST_F(profile_pictures_test, a_direct_upload_that_is_not_an_image_or_too_large_is_deleted) {
  const auto fake = pictures.begin_direct_upload(owner);
  images.put(fake.key, "GIF? no, text", "image/gif");
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, fake.key, origin); },
                           error_kind::unsupported_media_type, "unsupported_media_type"));
  EXPECT_FALSE(images.get(fake.key));
  const auto big = pictures.begin_direct_upload(owner);
  images.put(big.key, png + std::string(1024, 'x'), "image/png");
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, big.key, origin); },
                           error_kind::payload_too_large, "payload_too_large"));
  EXPECT_FALSE(images.get(big.key));
  EXPECT_FALSE(stored_key());
}

TEST_F(profile_pictures_test, an_upload_written_again_while_it_is_checked_records_nothing) {
  const auto upload = pictures.begin_direct_upload(owner);
  images.put(upload.key, png, "image/png");
  images.before_read = [&](const std::string& key) { images.put(key, "<html>", "image/png"); };
  EXPECT_TRUE(throws_error([&] { (void)pictures.confirm_direct_upload(owner, upload.key, origin); },
                           error_kind::already_exists, "upload_changed"));
  EXPECT_FALSE(stored_key());
}

}  // namespace
}  // namespace gatehouse::accounts
