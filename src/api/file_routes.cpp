// GET /files/{key+}: the local backend's signed, expiring image URLs.
#include "api/routes.hpp"
#include "base/error.hpp"

namespace gatehouse::api {

void bind_file_routes(http::router& r, images::signed_object_reader& files) {
  r.add("GET", "/files/{key+}", [&files](http::request& req) {
    const auto expires = req.query_param("expires");
    const auto sig = req.query_param("sig");
    if (!expires || !sig)
      throw error(error_kind::permission_denied, "invalid_signature", "this URL is not signed");
    auto object = files.read_signed(req.path_params.at("key"), *expires, *sig);
    http::response res;
    res.status = 200;
    res.set_header("content-type", std::move(object.content_type));
    res.set_header("cache-control", "private, max-age=300");
    res.set_header("x-content-type-options", "nosniff");
    res.body = std::move(object.bytes);
    return res;
  });
}

}  // namespace gatehouse::api
