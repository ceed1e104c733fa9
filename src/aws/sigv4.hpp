#pragma once
// AWS Signature Version 4: header form (Authorization) and query form
// (pre-signed URLs), as specified in the AWS General Reference.
#include "aws/credentials.hpp"
#include "aws/http_types.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::aws::sigv4 {

struct scope {
  std::string region;   // "us-east-1"
  std::string service;  // "dynamodb", "s3", "secretsmanager"
};

struct options {
  // S3's rules: the canonical path is the wire path as it is (no second
  // encoding, no dot-segment or slash normalisation).
  bool s3_paths = false;
  // Sign the literal UNSIGNED-PAYLOAD instead of the body's SHA-256.
  bool unsigned_payload = false;
  // Send (and sign) x-amz-content-sha256, as S3 requires.
  bool content_sha256_header = false;
};

// The intermediate strings, for tests against the official vectors.
struct signing_steps {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
};

// Header form. `req` must carry a Host header. Adds x-amz-date,
// x-amz-security-token (with a session token), x-amz-content-sha256
// (when asked) and Authorization.
signing_steps sign_request(http_request& req, const credentials& creds, const scope& sc,
                           std::int64_t unix_time, const options& opts = {});

// Query form. `req` must carry a Host header. Appends X-Amz-Algorithm,
// -Credential, -Date, -Expires, -SignedHeaders, -Security-Token (with a
// session token) and -Signature to req.query.
signing_steps presign_request(http_request& req, const credentials& creds, const scope& sc,
                              std::int64_t unix_time, std::int64_t expires_seconds,
                              const options& opts = {});

// YYYYMMDDTHHMMSSZ, the form of x-amz-date. SigV4 has four-digit years
// only: throws std::invalid_argument outside 1970..9999.
std::string amz_date(std::int64_t unix_time);

// The signing key (32 raw bytes): HMAC-SHA256 chained over "AWS4" + secret,
// then `date` (YYYYMMDD), region, service and "aws4_request". Also what an
// S3 POST policy is signed with: hex(HMAC-SHA256(key, base64 policy)).
std::string signing_key(std::string_view secret_access_key, std::string_view date, const scope& sc);

// RFC 3986 percent-encoding as SigV4 defines it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX (upper case);
// '/' stays when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace gatehouse::aws::sigv4
