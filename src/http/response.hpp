#pragma once
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::http {

struct response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;

  void set_header(std::string name, std::string value);
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";

// A JSON body with the contract's content type.
response json_response(int status, const boost::json::value& body);
// 204 No Content.
response empty_response(int status = 204);

// Marks `r` as carrying a secret (an access or refresh token, a one-time
// code): no cache, shared or private, may keep it (Cache-Control: no-store;
// Pragma: no-cache for HTTP/1.0 caches). Every response with a token goes
// through this.
response& mark_secret(response& r);

}  // namespace gatehouse::http
