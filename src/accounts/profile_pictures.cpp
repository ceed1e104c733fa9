#include "accounts/profile_pictures.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <utility>

namespace gatehouse::accounts {
namespace {

// Every signature sniff_image_type knows fits in this many bytes.
constexpr std::size_t sniff_bytes = 32;

error too_large(std::size_t max_bytes) {
  return error(error_kind::payload_too_large, "payload_too_large",
               "the image is larger than " + std::to_string(max_bytes) + " bytes");
}

error not_an_image() {
  return error(error_kind::unsupported_media_type, "unsupported_media_type",
               "the file is not a JPEG, PNG, GIF or WebP image");
}

// The object is no longer the version that was checked (written again
// through its still-valid form, or deleted): nothing is recorded.
error upload_changed() {
  return error(error_kind::already_exists, "upload_changed", "the upload changed while it was checked; confirm again");
}

}  // namespace

profile_pictures::profile_pictures(users::user_store& users, images::object_store& images,
                                   images::pending_uploads& uploads, picture_settings settings)
    : users_(users), images_(images), uploads_(uploads), settings_(settings) {}

users::user profile_pictures::upload(users::user owner, std::string_view bytes, const request_origin& origin) {
  if (bytes.empty())
    throw error(error_kind::invalid_argument, "missing_file", "send the picture as a file part named image", "image");
  if (bytes.size() > settings_.max_image_bytes) throw too_large(settings_.max_image_bytes);
  const auto type = images::sniff_image_type(bytes);
  if (!type) throw not_an_image();

  // Named by the action: a retry whose earlier attempt stored (and maybe
  // recorded) the picture writes the same object again, not a second one.
  const std::string key = images::new_image_key(owner.user_id, *type, origin.action.name_for("image"));
  images_.put(key, bytes, images::content_type_of(*type));
  return record_image(std::move(owner), key, origin);
}

direct_upload profile_pictures::begin_direct_upload(const users::user& owner) {
  // At most MAX_PENDING_UPLOADS at once (429 beyond): images/pending_uploads.
  const auto slot = uploads_.reserve(owner.user_id);
  return direct_upload{images_.presign_upload(slot.key, settings_.max_image_bytes, slot.form_seconds), slot.key,
                       settings_.max_image_bytes};
}

users::user profile_pictures::confirm_direct_upload(users::user owner, std::string_view key,
                                                    const request_origin& origin) {
  // Only the shape begin_direct_upload hands out: never an image key, a path, or junk.
  const std::string_view key_owner = images::owner_of_upload_key(key);
  if (key_owner.empty()) throw validation_failed("key", "key must be a key POST /profile_pic/upload_url returned");
  // Well-formed but someone else's: refused before the store is asked, so
  // the answer says nothing about whether that upload exists.
  if (key_owner != owner.user_id)
    throw error(error_kind::permission_denied, "forbidden", "this upload key belongs to another user");
  // A retry of a confirm whose earlier attempt finished (its answer lost):
  // the upload is gone because it became the picture this action names.
  const std::string image_name = origin.action.name_for("image");
  if (origin.action.may_have_run_before && owner.profile_image_key &&
      owner.profile_image_key->starts_with(std::string(images::image_key_prefix) + owner.user_id + "/" + image_name + ".")) {
    release_confirmed(key, origin);
    return owner;
  }
  // Past its deadline an upload is dead, whether or not a sweep has deleted it yet.
  if (!uploads_.is_live(key)) {
    uploads_.release(key, true);
    throw error(error_kind::not_found, "not_found", "this upload expired before it was confirmed");
  }

  const auto head = images_.head(key);
  if (!head)
    throw error(error_kind::not_found, "not_found",
                "nothing was uploaded at this key (or it was confirmed or refused already)");
  if (head->size == 0) {
    discard(key, "empty upload", origin);
    throw error(error_kind::invalid_argument, "missing_file", "the uploaded file is empty", "file");
  }
  if (head->size > settings_.max_image_bytes) {
    discard(key, "upload too large", origin);
    throw too_large(settings_.max_image_bytes);
  }
  // Pinned to the version head measured, as the copy below is.
  const auto prefix = images_.read_prefix_if_unchanged(key, sniff_bytes, head->etag);
  if (!prefix) throw upload_changed();
  const auto type = images::sniff_image_type(*prefix);
  if (!type) {
    discard(key, "upload not an image", origin);
    throw not_an_image();
  }

  // The checked version moves to a key of ours with its sniffed type: the
  // upload form still works for a few minutes, but nothing it writes can
  // reach the recorded image.
  const std::string image_key = images::new_image_key(owner.user_id, *type, image_name);
  if (!images_.copy_if_unchanged(key, image_key, images::content_type_of(*type), head->etag)) throw upload_changed();
  // Recorded first, then the upload goes: a retry after a crash between
  // the two finds the picture this action names (above) instead of no upload.
  auto recorded = record_image(std::move(owner), image_key, origin);
  release_confirmed(key, origin);
  return recorded;
}

// The slot is free again: the marker goes with the upload. A failure only
// leaves them for the sweep.
void profile_pictures::release_confirmed(std::string_view key, const request_origin& origin) {
  try {
    uploads_.release(key, true);
  } catch (const error&) {
    log::warn("could not delete a confirmed upload", {{"request_id", origin.request_id}});
  }
}

// The one way an image becomes the user's: `key` (stored already, with
// its sniffed type) is recorded, and only then is the previous object
// deleted, so the user never points at a missing object.
users::user profile_pictures::record_image(users::user owner, const std::string& key, const request_origin& origin) {
  const auto swap = users_.set_profile_image(owner.user_id, key);
  if (!swap.user_found) {
    images_.remove(key);  // the user was deleted meanwhile: leave no stray object
    throw error(error_kind::not_found, "not_found", "this user no longer exists");
  }
  if (swap.previous_key && *swap.previous_key != key) discard(*swap.previous_key, "replaced image", origin);
  owner.profile_image_key = key;
  return owner;
}

// Deletes an object nobody will use; a failure only leaves it behind, so
// it is logged rather than allowed to replace the answer the client needs.
void profile_pictures::discard(std::string_view key, std::string_view why, const request_origin& origin) {
  try {
    images_.remove(key);
  } catch (const error&) {
    log::warn("could not delete an unused image object", {{"request_id", origin.request_id}, {"why", why}});
  }
}

}  // namespace gatehouse::accounts
