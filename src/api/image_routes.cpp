// POST /upload_profile_pic.
#include "api/bearer_auth.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "http/multipart.hpp"
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <algorithm>

namespace gatehouse::api {
namespace {

// Room for the multipart framing and a few small text fields around the image.
constexpr std::size_t multipart_overhead = 64 * 1024;

const http::multipart_part* find_image_part(const std::vector<http::multipart_part>& parts) {
  const auto it = std::find_if(parts.begin(), parts.end(),
                               [](const http::multipart_part& p) { return p.name == "image"; });
  return it == parts.end() ? nullptr : &*it;
}

http::response upload_profile_pic(http::request& req, const services& s) {
  const auto claims = require_bearer(req, s);
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

  auto u = s.users.find_by_id(claims.user_id);
  if (!u) throw error(error_kind::not_found, "not_found", "this user no longer exists");

  const std::string key = images::new_image_key(u->user_id, *type);
  s.images.put(key, image->body, images::content_type_of(*type));
  const auto swap = s.users.set_profile_image(u->user_id, key);
  if (!swap.user_found) {
    s.images.remove(key);  // the user was deleted meanwhile: leave no stray object
    throw error(error_kind::not_found, "not_found", "this user no longer exists");
  }
  // The new key is recorded; only now may the old object go.
  if (swap.previous_key && *swap.previous_key != key) {
    try {
      s.images.remove(*swap.previous_key);
    } catch (const error&) {
      log::warn("could not delete replaced image",
                {{"request_id", req.request_id}, {"user_id", u->user_id}});
    }
  }
  u->profile_image_key = key;
  return http::json_response(200, {{"user", user_json(*u, s.images)}});
}

}  // namespace

void bind_image_routes(http::router& r, const services& s) {
  r.add("POST", "/upload_profile_pic",
        [&s](http::request& req) { return upload_profile_pic(req, s); },
        {.max_body = s.settings.max_image_bytes + multipart_overhead});
}

}  // namespace gatehouse::api
