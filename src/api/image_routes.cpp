// Profile pictures: POST /upload_profile_pic (through this server), and
// direct uploads to storage: POST /profile_pic/upload_url, then
// POST /profile_pic/confirm. Both ways end in record_image.
#include "api/bearer_auth.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/utc_time.hpp"
#include "http/json_body.hpp"
#include "http/multipart.hpp"
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <algorithm>

namespace gatehouse::api {
namespace {

// Room for the multipart framing and a few small text fields around the image.
constexpr std::size_t multipart_overhead = 64 * 1024;
// Every signature sniff_image_type knows fits in this many bytes.
constexpr std::size_t sniff_bytes = 32;

const http::multipart_part* find_image_part(const std::vector<http::multipart_part>& parts) {
  const auto it = std::find_if(parts.begin(), parts.end(),
                               [](const http::multipart_part& p) { return p.name == "image"; });
  return it == parts.end() ? nullptr : &*it;
}

// The object is no longer the version that was checked (written again
// through its still-valid form, or deleted): nothing is recorded.
error upload_changed() {
  return error(error_kind::already_exists, "upload_changed", "the upload changed while it was checked; confirm again");
}

// Deletes an object nobody will use; a failure only leaves it behind, so
// it is logged rather than allowed to replace the answer the client needs.
void discard(const http::request& req, const services& s, std::string_view key, std::string_view why) {
  try {
    s.images.remove(key);
  } catch (const error&) {
    log::warn("could not delete an unused image object", {{"request_id", req.request_id}, {"why", why}});
  }
}

// The one way an image becomes the user's: `key` (stored already, with
// its sniffed type) is recorded, and only then is the previous object
// deleted, so the user never points at a missing object.
http::response record_image(const http::request& req, const services& s, users::user u, const std::string& key) {
  const auto swap = s.users.set_profile_image(u.user_id, key);
  if (!swap.user_found) {
    s.images.remove(key);  // the user was deleted meanwhile: leave no stray object
    throw error(error_kind::not_found, "not_found", "this user no longer exists");
  }
  if (swap.previous_key && *swap.previous_key != key) discard(req, s, *swap.previous_key, "replaced image");
  u.profile_image_key = key;
  return http::json_response(200, {{"user", user_json(u, s.images)}});
}

http::response upload_profile_pic(http::request& req, const services& s) {
  auto caller = require_bearer(req, s);
  const auto boundary = http::multipart_boundary(req.header("content-type").value_or(""));
  if (!boundary)
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "this route takes multipart/form-data with a boundary");
  if (req.body.size() > s.settings.max_image_bytes + multipart_overhead)
    throw error(error_kind::payload_too_large, "payload_too_large", "the image is too large");

  const auto parts = http::parse_multipart(req.body, *boundary);
  const auto* image = find_image_part(parts);
  if (!image || image->body.empty())
    throw error(error_kind::invalid_argument, "missing_file", "send the picture as a file part named image",
                "image");
  if (image->body.size() > s.settings.max_image_bytes)
    throw error(error_kind::payload_too_large, "payload_too_large",
                "the image is larger than " + std::to_string(s.settings.max_image_bytes) + " bytes");
  const auto type = images::sniff_image_type(image->body);
  if (!type)
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "the file is not a JPEG, PNG, GIF or WebP image");

  auto u = std::move(caller.user);
  const std::string key = images::new_image_key(u.user_id, *type);
  s.images.put(key, image->body, images::content_type_of(*type));
  return record_image(req, s, std::move(u), key);
}

http::response upload_url(http::request& req, const services& s) {
  auto caller = require_bearer(req, s);
  const auto u = std::move(caller.user);
  // At most MAX_PENDING_UPLOADS at once (429 beyond): images/pending_uploads.
  const auto slot = s.uploads.reserve(u.user_id);
  const std::string& key = slot.key;
  const auto form = s.images.presign_upload(key, s.settings.max_image_bytes, slot.form_seconds);
  boost::json::object fields;
  for (const auto& [name, value] : form.fields) fields[name] = value;  // in order
  return http::json_response(200, {{"upload",
                                    {{"url", form.url},
                                     {"fields", std::move(fields)},
                                     {"key", key},
                                     {"expires_at", iso8601_utc(form.expires_at)},
                                     {"max_bytes", s.settings.max_image_bytes}}}});
}

http::response confirm_upload(http::request& req, const services& s) {
  auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  const std::string key = http::required_string(body, "key");
  // Only the shape upload_url hands out: never an image key, a path, or junk.
  const std::string_view owner = images::owner_of_upload_key(key);
  if (owner.empty()) throw validation_failed("key", "key must be a key POST /profile_pic/upload_url returned");
  // Well-formed but someone else's: refused before the store is asked, so
  // the answer says nothing about whether that upload exists.
  if (owner != caller.user_id)
    throw error(error_kind::permission_denied, "forbidden", "this upload key belongs to another user");
  auto u = std::move(caller.user);
  // Past its deadline an upload is dead, whether or not a sweep has deleted it yet.
  if (!s.uploads.is_live(key)) {
    s.uploads.release(key, true);
    throw error(error_kind::not_found, "not_found", "this upload expired before it was confirmed");
  }

  const auto head = s.images.head(key);
  if (!head)
    throw error(error_kind::not_found, "not_found",
                "nothing was uploaded at this key (or it was confirmed or refused already)");
  if (head->size == 0) {
    discard(req, s, key, "empty upload");
    throw error(error_kind::invalid_argument, "missing_file", "the uploaded file is empty", "file");
  }
  if (head->size > s.settings.max_image_bytes) {
    discard(req, s, key, "upload too large");
    throw error(error_kind::payload_too_large, "payload_too_large",
                "the image is larger than " + std::to_string(s.settings.max_image_bytes) + " bytes");
  }
  // Pinned to the version head measured, as the copy below is.
  const auto prefix = s.images.read_prefix_if_unchanged(key, sniff_bytes, head->etag);
  if (!prefix) throw upload_changed();
  const auto type = images::sniff_image_type(*prefix);
  if (!type) {
    discard(req, s, key, "upload not an image");
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "the file is not a JPEG, PNG, GIF or WebP image");
  }

  // The checked version moves to a key of ours with its sniffed type: the
  // upload form still works for a few minutes, but nothing it writes can
  // reach the recorded image.
  const std::string image_key = images::new_image_key(u.user_id, *type);
  if (!s.images.copy_if_unchanged(key, image_key, images::content_type_of(*type), head->etag))
    throw upload_changed();
  // The slot is free again: the marker goes with the upload.
  try {
    s.uploads.release(key, true);
  } catch (const error&) {
    log::warn("could not delete a confirmed upload", {{"request_id", req.request_id}});
  }
  return record_image(req, s, std::move(u), image_key);
}

}  // namespace

void bind_image_routes(http::router& r, const services& s) {
  r.add("POST", "/upload_profile_pic",
        [&s](http::request& req) { return upload_profile_pic(req, s); },
        {.max_body = s.settings.max_image_bytes + multipart_overhead});
  r.add("POST", "/profile_pic/upload_url", [&s](http::request& req) { return upload_url(req, s); });
  r.add("POST", "/profile_pic/confirm", [&s](http::request& req) { return confirm_upload(req, s); });
}

}  // namespace gatehouse::api
