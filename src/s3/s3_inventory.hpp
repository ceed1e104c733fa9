#pragma once
// images::object_inventory over the S3 bucket, for `gatehouse doctor` (run
// with an operator's credentials: HeadBucket and ListObjectsV2 of the whole
// bucket need s3:ListBucket, which the Lambda's role has only for the
// pending uploads' prefix).
#include "images/object_inventory.hpp"
#include "s3/s3_object_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gatehouse::s3 {

class s3_inventory final : public images::object_inventory {
 public:
  // Keys per ListObjectsV2 page at most (S3's own maximum).
  static constexpr std::size_t max_page_keys = 1000;

  s3_inventory(aws::aws_client& aws, bucket_settings settings, std::function<std::int64_t()> now_seconds,
               std::size_t page_keys = max_page_keys);

  std::string location() const override;
  // HeadBucket: 404 and 403 are reported, not thrown.
  std::optional<std::string> check_location() override;
  // ListObjectsV2, following continuation tokens.
  void list(std::string_view prefix, const std::function<void(const images::inventory_entry&)>& visit) override;
  std::optional<std::string> key_of(std::string_view stored) const override;
  bool exists(std::string_view key) override;
  void remove(std::string_view key) override;

 private:
  aws::http_response send(const std::string& method, const std::string& encoded_path_in_bucket, std::string query);

  bucket_settings settings_;
  s3_object_store objects_;  // key_of and HeadObject, exactly as the request path reads them
  std::size_t page_keys_;
};

// The objects of one ListObjectsV2 response page, and where the next starts
// (nullopt on the last page). Exposed for tests; throws std::invalid_argument
// for a page that is not a ListBucketResult or whose entries are unreadable.
struct list_page {
  std::vector<images::inventory_entry> entries;
  std::optional<std::string> next_token;
};
list_page parse_list_page(std::string_view xml);

}  // namespace gatehouse::s3
