#pragma once
// Object keys for profile images: "profile-images/<user uuid>/<32 hex>.<ext>".
// Direct uploads first land at an upload key, "profile-images/<user uuid>/<32 hex>"
// with no extension (S3 needs the key before anyone has seen the bytes);
// POST /profile_pic/confirm checks that object and copies it to a fresh
// image key whose extension is the sniffed type. Upload keys come back from
// clients, so the checkers accept exactly the shapes we generate and nothing
// else: no "..", no escapes, no absolute paths, no other user's prefix.
#include "images/sniff.hpp"

#include <string>
#include <string_view>

namespace gatehouse::images {

inline constexpr std::string_view image_key_prefix = "profile-images/";

// A fresh key with 128 random bits. `user_id` must be a canonical
// lower-case UUID; anything else is a bug (throws error(internal)).
std::string new_image_key(std::string_view user_id, image_type type);

// True only for the exact shape new_image_key produces.
bool is_valid_image_key(std::string_view key);

// True when `key` is valid and lies under `user_id`'s prefix.
bool image_key_belongs_to(std::string_view key, std::string_view user_id);

// A fresh upload key with 128 random bits: "profile-images/<user uuid>/<32 hex>".
// Same contract for `user_id` as new_image_key.
std::string new_upload_key(std::string_view user_id);

// True only for the exact shape new_upload_key produces (never an image key).
bool is_valid_upload_key(std::string_view key);

// The user id an upload key lies under, or "" when `key` is not a valid upload key.
std::string_view owner_of_upload_key(std::string_view key);

// 8-4-4-4-12 lower-case hex digits.
bool is_canonical_uuid(std::string_view text);

}  // namespace gatehouse::images
