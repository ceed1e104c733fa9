#pragma once
// AWS Secrets Manager's GetSecretValue over the signed, retrying
// aws_client: the JSON 1.1 protocol, POST / with
// X-Amz-Target: secretsmanager.GetSecretValue.
//
// Secret values are never logged and never appear in an exception
// message; neither do response bodies (a 200 body holds the secret).
#include "aws/aws_client.hpp"

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::secrets {

// No usable secret: a final error answer, an unreadable response, or a
// value that is no usable key. The message says which, in our own words
// plus the service's error code; never the value.
class secret_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::string_view current_stage = "AWSCURRENT";
inline constexpr std::string_view previous_stage = "AWSPREVIOUS";

// A SecretString is at most 64 KiB; escaped as JSON (\uXXXX) at most six
// times that. Anything larger is not a GetSecretValue answer.
inline constexpr std::size_t max_response_bytes = 512 * 1024;

class secrets_manager_client {
 public:
  secrets_manager_client(aws::aws_client& aws, aws::endpoint ep, std::string region);

  // GetSecretValue {SecretId, VersionStage}: the SecretString of the
  // version that carries `version_stage`, or nullopt when the service
  // answers ResourceNotFoundException (no such secret, or no version with
  // that stage: AWSPREVIOUS of a never-rotated secret). Throws
  // secret_error for any other final answer, a version that holds only
  // SecretBinary, or an unreadable response; storage_unavailable (from
  // aws_client) when the endpoint cannot be reached or keeps failing.
  std::optional<std::string> get_secret_string(std::string_view secret_id, std::string_view version_stage);

 private:
  aws::aws_client& aws_;
  aws::endpoint endpoint_;
  aws::sigv4::scope scope_;
};

// The error code of a JSON 1.1 error answer: "__type" in the body (the
// part after '#', if any), else the x-amzn-ErrorType header (up to ':').
// Only [A-Za-z0-9._-], at most 128 characters: anything else gives "".
std::string error_code_of(const aws::http_response& res);

}  // namespace gatehouse::secrets
