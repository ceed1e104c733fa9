#pragma once
// Profile images in a private S3 bucket: PutObject with the sniffed
// Content-Type and server-side encryption, DeleteObject, HeadObject,
// GetObject, and pre-signed GET URLs for `profile_image`.
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

struct object_head {
  std::uint64_t size = 0;
  std::string content_type;
};

class s3_object_store final : public images::object_store {
 public:
  s3_object_store(aws::aws_client& aws, bucket_settings settings,
                  std::function<std::int64_t()> now_seconds);

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  void remove(std::string_view key) override;
  std::string url_for(std::string_view key) override;

  std::optional<object_head> head(std::string_view key);
  std::optional<images::stored_object> get(std::string_view key);

  // The object key behind a `profile_image` value: a key as this version
  // stores it, or a full https URL into this bucket as the Node.js version
  // stored it (virtual-hosted or path-style). nullopt for anything else.
  std::optional<std::string> key_of(std::string_view stored) const;

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
