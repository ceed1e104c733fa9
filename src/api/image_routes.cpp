// Profile pictures: POST /upload_profile_pic (through this server), and
// direct uploads to storage: POST /profile_pic/upload_url, then
// POST /profile_pic/confirm. Parse, call accounts::profile_pictures, render.
#include "api/bearer_auth.hpp"
#include "api/request_origin.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/utc_time.hpp"
#include "http/json_body.hpp"
#include "http/multipart.hpp"

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

http::response user_response(const users::user& u, const services& s) {
  return http::json_response(200, {{"user", user_json(u, s.images)}});
}

http::response upload_profile_pic(http::request& req, const services& s) {
  auto caller = require_bearer(req, s);
  const auto boundary = http::multipart_boundary(req.header("content-type").value_or(""));
  if (!boundary)
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "this route takes multipart/form-data with a boundary");
  const std::size_t max_bytes = s.pictures.settings().max_image_bytes;
  if (req.body.size() > max_bytes + multipart_overhead)
    throw error(error_kind::payload_too_large, "payload_too_large", "the image is too large");

  const auto parts = http::parse_multipart(req.body, *boundary);
  const auto* image = find_image_part(parts);
  if (!image)
    throw error(error_kind::invalid_argument, "missing_file", "send the picture as a file part named image",
                "image");
  return user_response(s.pictures.upload(std::move(caller.user), image->body, origin_of(req, s)), s);
}

http::response upload_url(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const auto upload = s.pictures.begin_direct_upload(caller.user);
  boost::json::object fields;
  for (const auto& [name, value] : upload.form.fields) fields[name] = value;  // in order
  return http::json_response(200, {{"upload",
                                    {{"url", upload.form.url},
                                     {"fields", std::move(fields)},
                                     {"key", upload.key},
                                     {"expires_at", iso8601_utc(upload.form.expires_at)},
                                     {"max_bytes", upload.max_bytes}}}});
}

http::response confirm_upload(http::request& req, const services& s) {
  auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  const std::string key = http::required_string(body, "key");
  return user_response(s.pictures.confirm_direct_upload(std::move(caller.user), key, origin_of(req, s)), s);
}

}  // namespace

void bind_image_routes(http::router& r, const services& s) {
  r.add("POST", "/upload_profile_pic",
        [&s](http::request& req) { return upload_profile_pic(req, s); },
        {.max_body = s.pictures.settings().max_image_bytes + multipart_overhead});
  r.add("POST", "/profile_pic/upload_url", [&s](http::request& req) { return upload_url(req, s); });
  r.add("POST", "/profile_pic/confirm", [&s](http::request& req) { return confirm_upload(req, s); });
}

}  // namespace gatehouse::api
