#pragma once
// Profile pictures: an upload through the server, and direct uploads to
// storage (a form from begin_direct_upload, then confirm_direct_upload).
// Both ways end in the one place that records an image as the user's.
#include "accounts/request_origin.hpp"
#include "images/object_store.hpp"
#include "images/pending_uploads.hpp"
#include "users/user.hpp"
#include "users/user_store.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gatehouse::accounts {

struct picture_settings {
  std::size_t max_image_bytes = 5 * 1024 * 1024;  // MAX_IMAGE_BYTES
};

// A form that lets its holder store one upload at `key`.
struct direct_upload {
  images::upload_form form;
  std::string key;
  std::size_t max_bytes = 0;
};

class profile_pictures {
 public:
  // Every reference must outlive the service.
  profile_pictures(users::user_store& users, images::object_store& images, images::pending_uploads& uploads,
                   picture_settings settings);

  // Stores `bytes` as `owner`'s picture and returns the user with it.
  // Throws missing_file (empty), payload_too_large, unsupported_media_type
  // (not a JPEG, PNG, GIF or WebP), not_found (the user was deleted meanwhile).
  users::user upload(users::user owner, std::string_view bytes, const request_origin& origin);

  // A slot and its form (at most MAX_PENDING_UPLOADS at once: rate_limited beyond).
  direct_upload begin_direct_upload(const users::user& owner);

  // Checks what was uploaded at `key` (a key begin_direct_upload returned
  // to `owner`) and records it as the picture. Throws validation_failed
  // for any other shape, forbidden for another user's key, not_found for a
  // dead or empty slot, the upload's own errors (deleting it), and
  // upload_changed when it was written again while it was checked.
  users::user confirm_direct_upload(users::user owner, std::string_view key, const request_origin& origin);

  const picture_settings& settings() const noexcept { return settings_; }

 private:
  users::user record_image(users::user owner, const std::string& key, const request_origin& origin);
  void release_confirmed(std::string_view key, const request_origin& origin);
  void discard(std::string_view key, std::string_view why, const request_origin& origin);

  users::user_store& users_;
  images::object_store& images_;
  images::pending_uploads& uploads_;
  picture_settings settings_;
};

}  // namespace gatehouse::accounts
