#pragma once
// The one error type that crosses layers. Its kind is abseil's canonical
// code set plus the few HTTP-specific outcomes the contract names
// (405, 413, 415); `code` is the contract's snake_case error code.
// Exactly one function (http/error_response) turns it into a response.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

enum class error_kind {
  invalid_argument,
  unauthenticated,
  permission_denied,
  not_found,
  method_not_allowed,
  already_exists,
  conflict,       // 409 for the state of the request itself (one still running), not of a resource
  unprocessable,  // 422: well-formed, but at odds with what was recorded for it
  payload_too_large,
  header_fields_too_large,
  unsupported_media_type,
  resource_exhausted,
  unavailable,
  internal,
};

class error : public std::runtime_error {
 public:
  error(error_kind kind, std::string code, std::string message, std::string field = {})
      : std::runtime_error(message),
        kind_(kind),
        code_(std::move(code)),
        field_(std::move(field)) {}

  error_kind kind() const noexcept { return kind_; }
  const std::string& code() const noexcept { return code_; }
  // The request field a validation failure is about, or empty.
  const std::string& field() const noexcept { return field_; }

  // Response headers the error implies (Allow, Retry-After, WWW-Authenticate).
  using header_list = std::vector<std::pair<std::string, std::string>>;
  const header_list& headers() const noexcept { return headers_; }
  error&& with_header(std::string name, std::string value) && {
    headers_.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }

 private:
  error_kind kind_;
  std::string code_;
  std::string field_;
  header_list headers_;
};

// Shorthands for the errors every layer raises.
inline error validation_failed(std::string field, std::string message) {
  return error(error_kind::invalid_argument, "validation_failed", std::move(message),
               std::move(field));
}

// A backend that failed or timed out: the client sees 503, never the cause.
inline error storage_unavailable(std::string message) {
  return error(error_kind::unavailable, "storage_unavailable", std::move(message));
}

}  // namespace gatehouse
