#pragma once
// Shared helpers for the HTTP suite: JSON access, multipart bodies, sample images.
#include "http_client.hpp"

#include <boost/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace gatehouse::testing {

boost::json::value parse_json(const std::string& text);
// The `error.code` of an error body, or "" when the body has none.
std::string error_code_of(const http_result& r);
std::string error_field_of(const http_result& r);

// A 1x1 PNG, a tiny GIF, JPEG and WebP, each a real file of its type.
std::string sample_png();
std::string sample_gif();
std::string sample_jpeg();
std::string sample_webp();

struct form_part {
  std::string name;
  std::string filename;      // empty: a plain field
  std::string content_type;  // empty: none declared
  std::string body;
};
inline const std::string test_boundary = "----gatehouse-test-boundary-7MA4YWxkTrZu0gW";
std::string multipart_body(const std::vector<form_part>& parts, const std::string& boundary = test_boundary);
header_list multipart_headers(const std::string& token, const std::string& boundary = test_boundary);

// Signs up and logs in; returns the bearer token (and the user id).
struct signed_in_user {
  std::string user_id;
  std::string email;
  std::string token;
};
signed_in_user sign_up_and_log_in(http_client& c, const std::string& email,
                                  const std::string& password = "correct horse battery");

// The path and query of an absolute http://host:port/... URL.
std::string path_of_url(const std::string& url);

// What a browser does with a direct-upload form (POST /profile_pic/upload_url):
// posts its `fields` in order to `url` (http://127.0.0.1:<port>/...), then
// a Content-Type field (none when `content_type` is empty), then the file.
http_result post_upload_form(const std::string& url, const std::vector<std::pair<std::string, std::string>>& fields,
                             const std::string& bytes, const std::string& content_type = "image/png");

// GETs an absolute http://127.0.0.1:<port>/... URL (an image URL the API
// returned: the server's own /files route, or the S3 peer's proxy).
http_result fetch_url(const std::string& url);

// Runs `f(client, i)` for i in 0..count-1, each on a thread of its own with
// a connection of its own, all released at once. A client-side failure
// (connection refused, timeout) becomes a result with status 0.
std::vector<http_result> all_at_once(int count, unsigned short port,
                                     const std::function<http_result(http_client&, int)>& f);

// HMAC-SHA256 and lower-case hex straight from OpenSSL, so tests can sign
// the local backend's URLs and forms from the documented scheme without
// Gatehouse's own code.
std::string hmac_sha256(const std::string& key, const std::string& data);
std::string hex_of(const std::string& bytes);

// The key the suites' servers derive for `purpose` from test_server_secret,
// by the documented scheme (HKDF-SHA256, salt "gatehouse server secret",
// info the purpose, 32 bytes) with OpenSSL's own HKDF, not Gatehouse's.
std::string derived_key(const std::string& purpose);

}  // namespace gatehouse::testing
