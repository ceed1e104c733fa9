#include "aws/sigv4.hpp"
#include "base/text.hpp"
#include "base/utc_time.hpp"

#include "crypto/crypto.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace gatehouse::aws::sigv4 {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view unsigned_payload_hash = "UNSIGNED-PAYLOAD";
constexpr std::int64_t max_presign_seconds = 7 * 24 * 60 * 60;  // SigV4's one-week limit

// Dot segments and empty segments removed the way the AWS SDKs do it
// (smithy's getCanonicalPath): "//" collapses, "." vanishes, ".." drops the
// previous segment (never above the root), a trailing '/' survives unless
// nothing is left. Works on the encoded wire path: "%2E" is not a dot.
std::string normalise_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (!segments.empty() && path.back() == '/') out.push_back('/');
  return out;
}

std::string canonical_path(std::string_view wire_path, bool s3_paths) {
  if (wire_path.empty()) return "/";
  // S3 signs the path it receives, byte for byte.
  if (s3_paths) return std::string(wire_path);
  // Everyone else: normalise, then encode the (already encoded) wire path a
  // second time, so '%' becomes %25.
  return uri_encode(normalise_path(wire_path), /*keep_slash=*/true);
}

// Each name and value decoded then encoded with SigV4's rules, sorted by name
// and then value (byte order of the encoded text), "name=value" even when the
// value is empty. Empty '&&' segments carry nothing and are skipped, and so
// is X-Amz-Signature, which can never sign itself.
std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    std::string decoded_name = text::percent_decode_lenient(name);
    if (text::ascii_iequals(decoded_name, "X-Amz-Signature")) continue;
    params.emplace_back(uri_encode(decoded_name, false), uri_encode(text::percent_decode_lenient(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

// Headers that change in transit or are added by other layers; signing them
// would make a good request fail verification.
bool is_unsigned_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "x-amzn-trace-id" ||
         lower_name == "expect";
}

bool is_header_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Leading and trailing whitespace removed, inner runs (folded lines included)
// collapsed to one space.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_header_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

struct canonical_headers {
  std::string block;        // "name:value\n" per header
  std::string signed_list;  // "a;b;c"
};

canonical_headers canonicalise_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> by_name;  // sorted by lower-case name
  for (const auto& [name, value] : headers) {
    std::string key = text::ascii_lower(name);
    if (is_unsigned_header(key)) continue;
    auto [it, inserted] = by_name.try_emplace(std::move(key));
    if (!inserted) it->second.push_back(',');  // repeated headers: values joined in order
    it->second.append(canonical_header_value(value));
  }
  canonical_headers out;
  for (const auto& [name, value] : by_name) {
    out.block.append(name).append(":").append(value).append("\n");
    if (!out.signed_list.empty()) out.signed_list.push_back(';');
    out.signed_list.append(name);
  }
  return out;
}

std::string payload_hash(const http_request& req, bool unsigned_payload) {
  if (unsigned_payload) return std::string(unsigned_payload_hash);
  return crypto::to_hex(crypto::sha256(req.body));
}

void require_host(const http_request& req) {
  if (!req.header("host")) throw std::invalid_argument("sigv4: the request has no Host header");
}

// Everything after the canonical request is the same in both forms.
signing_steps finish(std::string canonical_request, const credentials& creds, const scope& sc,
                     std::string_view date_time, std::string_view credential_scope) {
  signing_steps steps;
  steps.canonical_request = std::move(canonical_request);
  steps.string_to_sign = std::string(algorithm) + "\n" + std::string(date_time) + "\n" +
                         std::string(credential_scope) + "\n" +
                         crypto::to_hex(crypto::sha256(steps.canonical_request));
  const std::string key = signing_key(creds.secret_access_key, date_time.substr(0, 8), sc);
  steps.signature = crypto::to_hex(crypto::hmac_sha256(key, steps.string_to_sign));
  return steps;
}

std::string make_canonical_request(const http_request& req, std::string_view canonical_query_text,
                                   const canonical_headers& headers, std::string_view hash,
                                   const options& opts) {
  std::string out = req.method;
  out.append("\n").append(canonical_path(req.path, opts.s3_paths));
  out.append("\n").append(canonical_query_text);
  out.append("\n").append(headers.block);
  out.append("\n").append(headers.signed_list);
  out.append("\n").append(hash);
  return out;
}

std::string credential_scope_of(std::string_view date_time, const scope& sc) {
  return std::string(date_time.substr(0, 8)) + "/" + sc.region + "/" + sc.service + "/aws4_request";
}

void remove_header(http_request& req, std::string_view name) {
  std::erase_if(req.headers, [&](const auto& h) { return text::ascii_iequals(h.first, name); });
}

}  // namespace

std::string amz_date(std::int64_t unix_time) {
  if (unix_time < 0 || unix_time > last_four_digit_year_second)
    throw std::invalid_argument("sigv4: signing time outside 1970..9999");
  return iso8601_basic_utc(unix_time);
}

std::string signing_key(std::string_view secret_access_key, std::string_view date, const scope& sc) {
  auto key = crypto::hmac_sha256("AWS4" + std::string(secret_access_key), date);
  key = crypto::hmac_sha256(crypto::as_bytes(key), sc.region);
  key = crypto::hmac_sha256(crypto::as_bytes(key), sc.service);
  key = crypto::hmac_sha256(crypto::as_bytes(key), "aws4_request");
  return std::string(crypto::as_bytes(key));
}

std::string uri_encode(std::string_view text, bool keep_slash) { return text::percent_encode(text, keep_slash); }

signing_steps sign_request(http_request& req, const credentials& creds, const scope& sc, std::int64_t unix_time,
                           const options& opts) {
  require_host(req);
  const std::string date_time = amz_date(unix_time);
  const std::string hash = payload_hash(req, opts.unsigned_payload);

  // Retries re-sign the same request, perhaps with refreshed credentials:
  // what an earlier attempt added must not linger.
  remove_header(req, "authorization");
  req.set_header("X-Amz-Date", date_time);
  if (creds.session_token.empty())
    remove_header(req, "x-amz-security-token");
  else
    req.set_header("X-Amz-Security-Token", creds.session_token);
  if (opts.content_sha256_header) req.set_header("x-amz-content-sha256", hash);

  const std::string credential_scope = credential_scope_of(date_time, sc);
  const canonical_headers headers = canonicalise_headers(req.headers);
  signing_steps steps = finish(make_canonical_request(req, canonical_query(req.query), headers, hash, opts), creds,
                               sc, date_time, credential_scope);
  req.set_header("Authorization", std::string(algorithm) + " Credential=" + creds.access_key_id + "/" +
                                      credential_scope + ", SignedHeaders=" + headers.signed_list +
                                      ", Signature=" + steps.signature);
  return steps;
}

signing_steps presign_request(http_request& req, const credentials& creds, const scope& sc, std::int64_t unix_time,
                              std::int64_t expires_seconds, const options& opts) {
  if (expires_seconds < 1 || expires_seconds > max_presign_seconds)
    throw std::invalid_argument("sigv4: X-Amz-Expires must be 1..604800 seconds");
  require_host(req);
  const std::string date_time = amz_date(unix_time);
  const std::string credential_scope = credential_scope_of(date_time, sc);
  const canonical_headers headers = canonicalise_headers(req.headers);

  // The query form has no header to carry the payload hash, so
  // content_sha256_header does not apply; callers presigning S3 URLs ask for
  // unsigned_payload, as every SDK does.
  const std::string hash = payload_hash(req, opts.unsigned_payload);

  std::string added = "X-Amz-Algorithm=" + std::string(algorithm);
  added += "&X-Amz-Credential=" + uri_encode(creds.access_key_id + "/" + credential_scope, false);
  added += "&X-Amz-Date=" + date_time;
  added += "&X-Amz-Expires=" + std::to_string(expires_seconds);
  added += "&X-Amz-SignedHeaders=" + uri_encode(headers.signed_list, false);
  // The token is signed with the rest, as STS and most services expect.
  if (!creds.session_token.empty()) added += "&X-Amz-Security-Token=" + uri_encode(creds.session_token, false);
  if (!req.query.empty() && req.query.back() != '&') req.query.push_back('&');
  req.query += added;

  signing_steps steps =
      finish(make_canonical_request(req, canonical_query(req.query), headers, hash, opts), creds, sc, date_time,
             credential_scope);
  req.query += "&X-Amz-Signature=" + steps.signature;
  return steps;
}

}  // namespace gatehouse::aws::sigv4
