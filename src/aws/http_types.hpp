#pragma once
// The AWS-side HTTP messages: what the signer signs and the client sends.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::aws {

struct http_request {
  std::string method = "GET";
  // The path exactly as it goes on the wire: begins with '/', already
  // URI-encoded by the caller (S3 keys through sigv4::uri_encode).
  std::string path = "/";
  std::string query;  // as on the wire, without '?'; may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // sent in this order
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const;  // case-insensitive
  void set_header(std::string name, std::string value);                 // replaces, case-insensitive
};

struct http_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;

  std::optional<std::string_view> header(std::string_view lower_name) const;
};

}  // namespace gatehouse::aws
