#include "s3/s3_object_store.hpp"

#include "s3/s3_inventory.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/utc_time.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace gatehouse::s3 {
namespace {

constexpr std::size_t max_key_bytes = 1024;  // S3's own limit
constexpr std::int64_t max_policy_seconds = 7 * 24 * 60 * 60;  // as long as SigV4 credentials may sign for

// Keys come from images::new_image_key or from the Node.js version's URLs;
// either way they are printable and bounded.
bool is_usable_key(std::string_view key) {
  if (key.empty() || key.size() > max_key_bytes || key.front() == '/') return false;
  for (unsigned char c : key)
    if (c < 0x20 || c == 0x7F) return false;
  return true;
}

[[noreturn]] void unusable_key() { throw error(error_kind::not_found, "not_found", "object not found"); }

[[noreturn]] void failed(std::string_view operation, const aws::http_response& res) {
  log::error("s3: request failed",
             {{"operation", operation}, {"status", res.status}, {"code", error_code_of(res)}});
  throw storage_unavailable("S3 request failed");
}

}  // namespace

std::string error_code_of(const aws::http_response& res) {
  const std::string_view body = res.body;
  const auto open = body.find("<Code>");
  if (open == std::string_view::npos) return {};
  const auto start = open + 6;
  const auto close = body.find("</Code>", start);
  if (close == std::string_view::npos || close - start > 128) return {};
  return std::string(body.substr(start, close - start));
}

s3_object_store::s3_object_store(aws::aws_client& aws, bucket_settings settings,
                                 std::function<std::int64_t()> now_seconds)
    : aws_(aws), settings_(std::move(settings)), now_seconds_(std::move(now_seconds)) {}

std::pair<aws::endpoint, std::string> s3_object_store::locate(std::string_view key) const {
  const std::string encoded_key = aws::sigv4::uri_encode(key, true);
  aws::endpoint ep = settings_.service_endpoint;
  if (ep.is_custom) return {ep, ep.base_path + "/" + settings_.bucket + "/" + encoded_key};
  ep.host = settings_.bucket + "." + ep.host;
  return {ep, "/" + encoded_key};
}

aws::http_response s3_object_store::send(const std::string& method, std::string_view key, aws::http_request req) {
  auto [ep, path] = locate(key);
  req.method = method;
  // The client prefixes the endpoint's base path; locate() already did.
  ep.base_path.clear();
  req.path = std::move(path);
  aws::sigv4::options opts;
  opts.s3_paths = true;
  opts.content_sha256_header = true;
  return aws_.send(ep, {settings_.region, "s3"}, req, opts, error_code_of);
}

aws::http_response s3_object_store::send_to_bucket(const std::string& method,
                                                   const std::string& encoded_path_in_bucket, std::string query) {
  // Path-style for a custom endpoint, virtual-hosted on AWS, as locate() does.
  aws::endpoint ep = settings_.service_endpoint;
  aws::http_request req;
  if (ep.is_custom) {
    req.path = ep.base_path + "/" + settings_.bucket + encoded_path_in_bucket;
  } else {
    ep.host = settings_.bucket + "." + ep.host;
    req.path = encoded_path_in_bucket.empty() ? "/" : encoded_path_in_bucket;
  }
  ep.base_path.clear();  // already in the path
  req.method = method;
  req.query = std::move(query);
  aws::sigv4::options opts;
  opts.s3_paths = true;
  opts.content_sha256_header = true;
  return aws_.send(ep, {settings_.region, "s3"}, req, opts, error_code_of);
}

void s3_object_store::put(std::string_view key, std::string_view bytes, std::string_view content_type) {
  if (!is_usable_key(key)) unusable_key();
  aws::http_request req;
  req.headers = {{"content-type", std::string(content_type)},
                 {"x-amz-server-side-encryption", settings_.server_side_encryption}};
  req.body = std::string(bytes);
  const auto res = send("PUT", key, std::move(req));
  if (res.status != 200) failed("PutObject", res);
}

void s3_object_store::remove(std::string_view stored) {
  const auto key = key_of(stored);
  if (!key) return;  // nothing of ours to delete
  const auto res = send("DELETE", *key, {});
  if (res.status != 204 && res.status != 200 && res.status != 404) failed("DeleteObject", res);
}

std::string s3_object_store::url_for(std::string_view stored) {
  const auto key = key_of(stored);
  if (!key) return std::string(stored);  // not in our bucket: pass it through as it was stored
  auto [ep, path] = locate(*key);
  aws::http_request req;
  req.method = "GET";
  req.path = path;
  req.set_header("host", ep.authority());
  aws::sigv4::options opts;
  opts.s3_paths = true;
  opts.unsigned_payload = true;
  aws::sigv4::presign_request(req, aws_.credentials().get(), {settings_.region, "s3"}, now_seconds_(),
                              settings_.url_ttl.count(), opts);
  return std::string(ep.tls ? "https://" : "http://") + ep.authority() + req.path + "?" + req.query;
}

images::upload_form s3_object_store::presign_upload(std::string_view key, std::size_t max_bytes,
                                                    std::int64_t expires_seconds) {
  if (!is_usable_key(key) || max_bytes == 0 || expires_seconds < 1 || expires_seconds > max_policy_seconds)
    throw error(error_kind::internal, "internal", "s3: bad upload form request");
  const aws::credentials creds = aws_.credentials().get();
  const std::int64_t now = now_seconds_();
  const std::string date_time = aws::sigv4::amz_date(now);
  const std::string date = date_time.substr(0, 8);
  const aws::sigv4::scope sc{settings_.region, "s3"};
  const std::string credential = creds.access_key_id + "/" + date + "/" + sc.region + "/s3/aws4_request";

  images::upload_form form;
  form.expires_at = now + expires_seconds;
  // The fields the client sends as they are; each is also a condition, so
  // S3 refuses a form whose fields were changed.
  form.fields.emplace_back("key", std::string(key));
  if (!settings_.server_side_encryption.empty())
    form.fields.emplace_back("x-amz-server-side-encryption", settings_.server_side_encryption);
  form.fields.emplace_back("x-amz-algorithm", "AWS4-HMAC-SHA256");
  form.fields.emplace_back("x-amz-credential", credential);
  form.fields.emplace_back("x-amz-date", date_time);
  if (!creds.session_token.empty()) form.fields.emplace_back("x-amz-security-token", creds.session_token);

  boost::json::array conditions;
  conditions.push_back(boost::json::object{{"bucket", settings_.bucket}});
  conditions.push_back(boost::json::array{"eq", "$key", key});
  conditions.push_back(boost::json::array{"content-length-range", 1, static_cast<std::uint64_t>(max_bytes)});
  // The client chooses its own Content-Type; confirm replaces it with the sniffed one.
  conditions.push_back(boost::json::array{"starts-with", "$Content-Type", "image/"});
  for (const auto& [name, value] : form.fields)
    if (name != "key") conditions.push_back(boost::json::object{{name, value}});
  const boost::json::object policy{{"expiration", iso8601_utc(form.expires_at)},
                                   {"conditions", std::move(conditions)}};

  const std::string encoded_policy = crypto::base64_encode(boost::json::serialize(policy));
  const std::string signature =
      crypto::to_hex(crypto::hmac_sha256(aws::sigv4::signing_key(creds.secret_access_key, date, sc), encoded_policy));
  form.fields.emplace_back("policy", encoded_policy);
  form.fields.emplace_back("x-amz-signature", signature);

  // Path-style for a custom endpoint, virtual-hosted on AWS, as locate() does.
  const aws::endpoint& ep = settings_.service_endpoint;
  const std::string scheme = ep.tls ? "https://" : "http://";
  if (ep.is_custom) {
    form.url = scheme + ep.authority() + ep.base_path + "/" + settings_.bucket;
  } else {
    aws::endpoint bucket_ep = ep;
    bucket_ep.host = settings_.bucket + "." + ep.host;
    form.url = scheme + bucket_ep.authority() + "/";
  }
  return form;
}

std::optional<images::object_head> s3_object_store::head(std::string_view key) {
  if (!is_usable_key(key)) return std::nullopt;
  const auto res = send("HEAD", key, {});
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) failed("HeadObject", res);
  images::object_head h;
  const auto length = res.header("content-length").value_or("");
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), h.size);
  if (ec != std::errc() || end != length.data() + length.size() || length.empty()) failed("HeadObject", res);
  h.etag = std::string(res.header("etag").value_or(""));
  if (h.etag.empty()) failed("HeadObject", res);
  return h;
}

std::optional<std::string> s3_object_store::read_prefix_if_unchanged(std::string_view key, std::size_t n,
                                                                     std::string_view etag) {
  if (!is_usable_key(key)) return std::nullopt;
  if (n == 0) {
    const auto h = head(key);
    return h && h->etag == etag ? std::optional<std::string>("") : std::nullopt;
  }
  aws::http_request req;
  // Without If-Match the bytes sniffed could be another version than the
  // one HeadObject measured and CopyObject copies (the form still works).
  req.headers = {{"range", "bytes=0-" + std::to_string(n - 1)}, {"if-match", std::string(etag)}};
  const auto res = send("GET", key, std::move(req));
  if (res.status == 404 || res.status == 412) return std::nullopt;
  if (res.status == 416) return std::string();  // an empty object has no byte 0
  // 200: a server that ignored the range sent it all.
  if (res.status != 206 && res.status != 200) failed("GetObject", res);
  return res.body.substr(0, n);
}

bool s3_object_store::copy_if_unchanged(std::string_view from, std::string_view to, std::string_view content_type,
                                        std::string_view etag) {
  if (!is_usable_key(from) || !is_usable_key(to)) unusable_key();
  aws::http_request req;
  req.headers = {{"content-type", std::string(content_type)},
                 {"x-amz-copy-source", "/" + settings_.bucket + "/" + aws::sigv4::uri_encode(from, true)},
                 {"x-amz-copy-source-if-match", std::string(etag)},
                 {"x-amz-metadata-directive", "REPLACE"}};
  if (!settings_.server_side_encryption.empty())
    req.headers.emplace_back("x-amz-server-side-encryption", settings_.server_side_encryption);
  const auto res = send("PUT", to, std::move(req));
  // 412: the source is no longer the version checked; 404: it is gone.
  if (res.status == 412 || res.status == 404) return false;
  // A copy can fail after S3 has sent 200: the error is then in the body.
  if (res.status != 200 || res.body.find("<Error>") != std::string::npos) failed("CopyObject", res);
  return true;
}

std::vector<std::string> s3_object_store::list_keys(std::string_view prefix, std::size_t limit) {
  limit = std::clamp<std::size_t>(limit, 1, s3_inventory::max_page_keys);
  const auto res = send_to_bucket("GET", "", "list-type=2&max-keys=" + std::to_string(limit) +
                                             "&prefix=" + aws::sigv4::uri_encode(prefix, false));
  if (res.status != 200) failed("ListObjectsV2", res);
  std::vector<std::string> keys;
  try {
    // One page: a user holds a few keys, and a sweep lists again.
    for (auto& e : parse_list_page(res.body).entries)
      if (e.key.starts_with(prefix) && keys.size() < limit) keys.push_back(std::move(e.key));
  } catch (const std::invalid_argument& e) {
    log::error("s3: unreadable ListObjectsV2 response", {{"what", e.what()}});
    throw storage_unavailable("S3 ListObjectsV2: unreadable response");
  }
  return keys;
}

std::optional<images::stored_object> s3_object_store::get(std::string_view key) {
  if (!is_usable_key(key)) return std::nullopt;
  const auto res = send("GET", key, {});
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) failed("GetObject", res);
  return images::stored_object{res.body, std::string(res.header("content-type").value_or(""))};
}

std::optional<std::string> s3_object_store::key_of(std::string_view stored) const {
  if (stored.rfind("https://", 0) != 0 && stored.rfind("http://", 0) != 0)
    return is_usable_key(stored) ? std::optional<std::string>(stored) : std::nullopt;
  // A URL the Node.js version stored (multer-s3's `location`).
  std::string_view rest = stored.substr(stored.find("://") + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view host = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  const std::string& bucket = settings_.bucket;
  const bool virtual_hosted = host.rfind(bucket + ".s3", 0) == 0 && host.find(".amazonaws.com") != std::string_view::npos;
  const bool path_style = path.rfind(bucket + "/", 0) == 0;
  if (virtual_hosted) {
    // the path is the key
  } else if (path_style) {
    path.remove_prefix(bucket.size() + 1);
  } else {
    return std::nullopt;
  }
  // multer-s3 URL-encodes the key in `location`.
  std::string key;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(path.data() + i + 1, path.data() + i + 3, value, 16);
      if (ec != std::errc{} || end != path.data() + i + 3) return std::nullopt;
      key += static_cast<char>(value);
      i += 2;
    } else {
      key += path[i];
    }
  }
  return is_usable_key(key) ? std::optional<std::string>(key) : std::nullopt;
}

}  // namespace gatehouse::s3
