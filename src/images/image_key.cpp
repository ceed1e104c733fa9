#include "images/image_key.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <array>

namespace gatehouse::images {
namespace {

constexpr std::size_t uuid_size = 36;
constexpr std::size_t random_bytes_count = 16;
constexpr std::size_t random_hex_size = 2 * random_bytes_count;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool all_lower_hex(std::string_view s) { return std::all_of(s.begin(), s.end(), is_lower_hex); }

}  // namespace

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != uuid_size) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !is_lower_hex(text[i])) return false;
  }
  return true;
}

std::string new_upload_key(std::string_view user_id) {
  if (!is_canonical_uuid(user_id))
    throw error(error_kind::internal, "internal", "image key for a malformed user id");
  std::string key(image_key_prefix);
  key += user_id;
  key += '/';
  key += crypto::to_hex(crypto::random_bytes(random_bytes_count));
  return key;
}

std::string new_image_key(std::string_view user_id, image_type type) {
  std::string key = new_upload_key(user_id);
  key += '.';
  key += extension_of(type);
  return key;
}

bool is_valid_upload_key(std::string_view key) {
  if (key.substr(0, image_key_prefix.size()) != image_key_prefix) return false;
  key.remove_prefix(image_key_prefix.size());
  if (key.size() != uuid_size + 1 + random_hex_size || !is_canonical_uuid(key.substr(0, uuid_size)) ||
      key[uuid_size] != '/')
    return false;
  return all_lower_hex(key.substr(uuid_size + 1));
}

std::string_view owner_of_upload_key(std::string_view key) {
  if (!is_valid_upload_key(key)) return {};
  return key.substr(image_key_prefix.size(), uuid_size);
}

bool is_valid_image_key(std::string_view key) {
  // An image key is an upload key's shape plus '.' and a known extension.
  constexpr std::size_t upload_key_size = image_key_prefix.size() + uuid_size + 1 + random_hex_size;
  if (key.size() < upload_key_size + 1 || !is_valid_upload_key(key.substr(0, upload_key_size)) ||
      key[upload_key_size] != '.')
    return false;
  key.remove_prefix(upload_key_size + 1);
  constexpr std::array types{image_type::jpeg, image_type::png, image_type::gif, image_type::webp};
  return std::any_of(types.begin(), types.end(),
                     [&](image_type t) { return key == extension_of(t); });
}

bool image_key_belongs_to(std::string_view key, std::string_view user_id) {
  return is_valid_image_key(key) && is_canonical_uuid(user_id) &&
         key.substr(image_key_prefix.size(), uuid_size) == user_id;
}

}  // namespace gatehouse::images
