#include "images/image_key.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace gatehouse::images {
namespace {

constexpr std::size_t uuid_size = 36;
constexpr std::size_t random_bytes_count = 16;
constexpr std::size_t random_hex_size = 2 * random_bytes_count;
constexpr std::size_t deadline_digits = 10;
constexpr std::int64_t min_deadline = 1'000'000'000;  // 2001: ten digits
constexpr std::int64_t max_deadline = 9'999'999'999;
// "<user uuid>/<32 hex>", as image keys have after image_key_prefix.
constexpr std::size_t image_tail_size = uuid_size + 1 + random_hex_size;
// "<user uuid>/<deadline>-<32 hex>" after upload_key_prefix.
constexpr std::size_t upload_tail_size = uuid_size + 1 + deadline_digits + 1 + random_hex_size;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_lower_hex(std::string_view s) { return std::all_of(s.begin(), s.end(), is_lower_hex); }

void require_uuid(std::string_view user_id) {
  if (!is_canonical_uuid(user_id))
    throw error(error_kind::internal, "internal", "image key for a malformed user id");
}

std::string random_hex() { return crypto::to_hex(crypto::random_bytes(random_bytes_count)); }

}  // namespace

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != uuid_size) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !is_lower_hex(text[i])) return false;
  }
  return true;
}

std::string new_image_key(std::string_view user_id, image_type type) {
  return new_image_key(user_id, type, random_hex());
}

std::string new_image_key(std::string_view user_id, image_type type, std::string_view name) {
  require_uuid(user_id);
  if (name.size() != random_hex_size || !all_lower_hex(name))
    throw error(error_kind::internal, "internal", "an image name that is not 32 lower-case hex digits");
  std::string key(image_key_prefix);
  key.append(user_id).append("/").append(name).append(".").append(extension_of(type));
  return key;
}

bool is_valid_image_key(std::string_view key) {
  // "profile-images/<uuid>/<32 hex>.<known extension>".
  if (!key.starts_with(image_key_prefix)) return false;
  key.remove_prefix(image_key_prefix.size());
  if (key.size() < image_tail_size + 1 || !is_canonical_uuid(key.substr(0, uuid_size)) || key[uuid_size] != '/' ||
      !all_lower_hex(key.substr(uuid_size + 1, random_hex_size)) || key[image_tail_size] != '.')
    return false;
  key.remove_prefix(image_tail_size + 1);
  constexpr std::array types{image_type::jpeg, image_type::png, image_type::gif, image_type::webp};
  return std::any_of(types.begin(), types.end(),
                     [&](image_type t) { return key == extension_of(t); });
}

bool image_key_belongs_to(std::string_view key, std::string_view user_id) {
  return is_valid_image_key(key) && is_canonical_uuid(user_id) &&
         key.substr(image_key_prefix.size(), uuid_size) == user_id;
}

std::string upload_prefix_of(std::string_view user_id) {
  require_uuid(user_id);
  std::string prefix(upload_key_prefix);
  prefix.append(user_id).append("/");
  return prefix;
}

std::string new_upload_key(std::string_view user_id, std::int64_t deadline) {
  if (deadline < min_deadline || deadline > max_deadline)
    throw error(error_kind::internal, "internal", "upload key with a deadline out of range");
  std::string key = upload_prefix_of(user_id);
  key.append(std::to_string(deadline)).append("-").append(random_hex());
  return key;
}

bool is_valid_upload_key(std::string_view key) {
  if (!key.starts_with(upload_key_prefix)) return false;
  key.remove_prefix(upload_key_prefix.size());
  if (key.size() != upload_tail_size || !is_canonical_uuid(key.substr(0, uuid_size)) || key[uuid_size] != '/')
    return false;
  key.remove_prefix(uuid_size + 1);
  const std::string_view digits = key.substr(0, deadline_digits);
  return std::all_of(digits.begin(), digits.end(), is_digit) && digits.front() != '0' &&
         key[deadline_digits] == '-' && all_lower_hex(key.substr(deadline_digits + 1));
}

std::string_view owner_of_upload_key(std::string_view key) {
  if (!is_valid_upload_key(key)) return {};
  return key.substr(upload_key_prefix.size(), uuid_size);
}

std::string form_marker_of(std::string_view upload_key) {
  if (!is_valid_upload_key(upload_key))
    throw error(error_kind::internal, "internal", "form marker of something that is no upload key");
  return std::string(upload_key) + std::string(form_marker_suffix);
}

std::string_view upload_key_of(std::string_view key) {
  if (is_valid_upload_key(key)) return key;
  if (key.ends_with(form_marker_suffix)) {
    const std::string_view upload = key.substr(0, key.size() - form_marker_suffix.size());
    if (is_valid_upload_key(upload)) return upload;
  }
  return {};
}

std::optional<std::int64_t> upload_deadline_of(std::string_view key) {
  const std::string_view upload = upload_key_of(key);
  if (upload.empty()) return std::nullopt;
  const std::string_view digits = upload.substr(upload_key_prefix.size() + uuid_size + 1, deadline_digits);
  std::int64_t deadline = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), deadline);  // ten digits: always fits
  return deadline;
}

}  // namespace gatehouse::images
