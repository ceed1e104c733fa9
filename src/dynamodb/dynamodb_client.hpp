#pragma once
// DynamoDB's JSON 1.0 protocol over the signed, retrying aws_client:
// POST / with X-Amz-Target: DynamoDB_20120810.<Operation>.
#include "aws/aws_client.hpp"

#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::dynamodb {

// A final (non-retryable) error answer from DynamoDB, such as
// ConditionalCheckFailedException, for the caller to interpret.
class service_error : public std::runtime_error {
 public:
  service_error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

class dynamodb_client {
 public:
  dynamodb_client(aws::aws_client& aws, aws::endpoint ep, std::string region);

  // Calls `operation` with `request`; returns the response object.
  // Throws service_error for a final error answer and storage_unavailable
  // when the service cannot be reached or keeps failing.
  boost::json::object call(std::string_view operation, const boost::json::object& request);

 private:
  aws::aws_client& aws_;
  aws::endpoint endpoint_;
  aws::sigv4::scope scope_;
};

// "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the part after '#'.
std::string error_code_of(const aws::http_response& res);

inline constexpr std::string_view conditional_check_failed = "ConditionalCheckFailedException";

}  // namespace gatehouse::dynamodb
