#pragma once
// Object keys for profile images: "profile-images/<user uuid>/<32 hex>.<ext>".
// Direct uploads first land at an upload key,
// "profile-images/uploads/<user uuid>/<deadline>-<32 hex>" with no extension
// (S3 needs the key before anyone has seen the bytes), beside a form marker
// (the upload key + ".form", written when the form is issued);
// POST /profile_pic/confirm checks the upload and copies it to a fresh image
// key whose extension is the sniffed type. Pending uploads live under a prefix
// of their own so that a sweep (locally) and an S3 lifecycle rule can expire
// them without ever touching an image. The deadline (unix seconds, 10 digits)
// is when the upload is dead: its form has expired and the time to confirm
// is over (images/pending_uploads). Upload keys come back from clients, so
// the checkers accept exactly the shapes we generate and nothing else: no
// "..", no escapes, no absolute paths, no other user's prefix.
#include "images/sniff.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::images {

inline constexpr std::string_view image_key_prefix = "profile-images/";
// Under image_key_prefix, so the bucket's one grant covers both; never a
// user's prefix, since "uploads" is no UUID. deploy/serverless.yml's
// lifecycle rule names this prefix.
inline constexpr std::string_view upload_key_prefix = "profile-images/uploads/";
inline constexpr std::string_view form_marker_suffix = ".form";

// A fresh key with 128 random bits. `user_id` must be a canonical
// lower-case UUID; anything else is a bug (throws error(internal)).
std::string new_image_key(std::string_view user_id, image_type type);

// The same with the given 128 bits as 32 lower-case hex digits (a retried
// action's own, accounts/request_origin); anything else is a bug.
std::string new_image_key(std::string_view user_id, image_type type, std::string_view name);

// True only for the exact shape new_image_key produces.
bool is_valid_image_key(std::string_view key);

// True when `key` is valid and lies under `user_id`'s prefix.
bool image_key_belongs_to(std::string_view key, std::string_view user_id);

// "profile-images/uploads/<user uuid>/": where that user's pending uploads live.
std::string upload_prefix_of(std::string_view user_id);

// A fresh upload key with 128 random bits under upload_prefix_of(user_id),
// dead at `deadline` (unix seconds, 1000000000..9999999999; anything else,
// or a malformed `user_id`, is a bug: throws error(internal)).
std::string new_upload_key(std::string_view user_id, std::int64_t deadline);

// True only for the exact shape new_upload_key produces (never an image key).
bool is_valid_upload_key(std::string_view key);

// The user id an upload key lies under, or "" when `key` is not a valid upload key.
std::string_view owner_of_upload_key(std::string_view key);

// The form marker of a valid upload key: the key + ".form".
std::string form_marker_of(std::string_view upload_key);

// The upload key `key` stands for: itself for an upload key, the upload key
// of a form marker, "" for anything else.
std::string_view upload_key_of(std::string_view key);

// The deadline of an upload key or form marker; nullopt for any other key.
std::optional<std::int64_t> upload_deadline_of(std::string_view key);

// 8-4-4-4-12 lower-case hex digits.
bool is_canonical_uuid(std::string_view text);

}  // namespace gatehouse::images
