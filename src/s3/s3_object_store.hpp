#pragma once
// Profile images in a private S3 bucket: PutObject with the sniffed
// Content-Type and server-side encryption, DeleteObject, HeadObject,
// GetObject (whole or a ranged prefix), CopyObject (pinned to the ETag
// that was checked), ListObjectsV2 of the pending uploads' prefix, pre-signed
// GET URLs for `profile_image`, and pre-signed POST policies for direct uploads.
//
// Addressing: virtual-hosted (https://<bucket>.s3.<region>.amazonaws.com/<key>)
// on AWS; path-style (<endpoint>/<bucket>/<key>) for a custom endpoint
// (AWS_ENDPOINT_URL_S3), as local peers need.
#include "aws/aws_client.hpp"
#include "images/object_store.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace gatehouse::s3 {

struct bucket_settings {
  std::string bucket;
  std::string region;
  aws::endpoint service_endpoint;  // regional, or the override
  std::chrono::seconds url_ttl{900};
  std::string server_side_encryption = "AES256";  // or "aws:kms"
};

class s3_object_store final : public images::object_store {
 public:
  s3_object_store(aws::aws_client& aws, bucket_settings settings,
                  std::function<std::int64_t()> now_seconds);

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  void remove(std::string_view key) override;
  std::string url_for(std::string_view key) override;

  // A POST policy (SigV4, signed with the current credentials) for exactly
  // `key`: conditions bucket, key (eq), content-length-range 1..max_bytes,
  // Content-Type starts-with "image/", the server-side encryption setting,
  // and the x-amz-algorithm/-credential/-date (and -security-token)
  // fields. `expires_seconds` must be 1..604800.
  images::upload_form presign_upload(std::string_view key, std::size_t max_bytes,
                                     std::int64_t expires_seconds) override;
  // HeadObject; the etag is S3's ETag header as sent (quotes included).
  std::optional<images::object_head> head(std::string_view key) override;
  // GetObject with Range: bytes=0-(n-1) and If-Match: etag; S3's 412
  // (another version now) and 404 are nullopt.
  std::optional<std::string> read_prefix_if_unchanged(std::string_view key, std::size_t n,
                                                      std::string_view etag) override;
  // One ListObjectsV2 page (max-keys = limit, at most 1000) of `prefix`.
  // The role may list only images::upload_key_prefix (s3:ListBucket with
  // an s3:prefix condition, deploy/serverless.yml).
  std::vector<std::string> list_keys(std::string_view prefix, std::size_t limit) override;
  // CopyObject with x-amz-copy-source-if-match and the metadata replaced,
  // so `to` gets `content_type` whatever the uploader declared.
  bool copy_if_unchanged(std::string_view from, std::string_view to, std::string_view content_type,
                         std::string_view etag) override;

  std::optional<images::stored_object> get(std::string_view key);

  // The object key behind a `profile_image` value: a key as this version
  // stores it, or a full https URL into this bucket as the Node.js version
  // stored it (virtual-hosted or path-style). nullopt for anything else.
  std::optional<std::string> key_of(std::string_view stored) const;

  // A request on the bucket itself (`encoded_path_in_bucket` empty) or on
  // a path in it, with `query`: ListObjectsV2 here, and doctor's calls.
  aws::http_response send_to_bucket(const std::string& method, const std::string& encoded_path_in_bucket,
                                    std::string query);

 private:
  // Where `key` lives: the endpoint (bucket host or service host) and wire path.
  std::pair<aws::endpoint, std::string> locate(std::string_view key) const;
  aws::http_response send(const std::string& method, std::string_view key, aws::http_request req);

  aws::aws_client& aws_;
  bucket_settings settings_;
  std::function<std::int64_t()> now_seconds_;
};

// S3's error code (<Code>…</Code>) from an XML error body, or "".
std::string error_code_of(const aws::http_response& res);

}  // namespace gatehouse::s3
