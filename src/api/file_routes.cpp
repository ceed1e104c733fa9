// The local backend's /files routes: GET /files/{key+} serves the signed,
// expiring image URLs; POST /files/upload receives the signed upload forms
// (the local stand-in for an S3 POST policy), whose policy the store checks.
#include "api/routes.hpp"
#include "base/error.hpp"
#include "base/text.hpp"
#include "http/multipart.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace gatehouse::api {
namespace {

// Room for the form's fields and framing around the file.
constexpr std::size_t form_overhead = 64 * 1024;

// The form fields before the file part, each at most once. As S3 does,
// anything after the file part is ignored.
images::signed_upload read_form(const std::vector<http::multipart_part>& parts) {
  std::optional<std::string_view> key, expires, max_bytes, signature, content_type, file;
  for (const auto& part : parts) {
    // Field names are case-insensitive, as in S3's POST forms.
    const std::string name = text::ascii_lower(part.name);
    if (name == "file") {
      file = part.body;
      break;
    }
    std::optional<std::string_view>* slot = nullptr;
    if (name == "key") slot = &key;
    else if (name == "expires") slot = &expires;
    else if (name == "max_bytes") slot = &max_bytes;
    else if (name == "signature") slot = &signature;
    else if (name == "content-type") slot = &content_type;
    // Nothing else is stored, so other fields do not matter (S3 would refuse
    // one its policy does not name).
    if (!slot) continue;
    if (*slot) throw validation_failed(name, name + " appears more than once");
    *slot = part.body;
  }
  if (!file) throw error(error_kind::invalid_argument, "missing_file", "send the picture as a file part named file", "file");
  // A form missing a signed field cannot carry a valid signature.
  if (!key || !expires || !max_bytes || !signature)
    throw error(error_kind::permission_denied, "invalid_signature", "the upload form is not signed");
  return {*key, *expires, *max_bytes, *signature, content_type, *file};
}

}  // namespace

void bind_file_routes(http::router& r, images::local_object_server& files, std::size_t max_upload_bytes) {
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

  // No bearer token: the form's signature is the authority, as with S3.
  r.add("POST", "/files/upload",
        [&files](http::request& req) {
          const auto boundary = http::multipart_boundary(req.header("content-type").value_or(""));
          if (!boundary)
            throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                        "post the upload form as multipart/form-data");
          const auto parts = http::parse_multipart(req.body, *boundary);
          files.receive_signed_upload(read_form(parts));
          http::response res;
          res.status = 204;  // what S3 answers a POST upload by default
          return res;
        },
        {.max_body = max_upload_bytes + form_overhead});
}

}  // namespace gatehouse::api
