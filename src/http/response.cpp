#include "http/response.hpp"

#include <boost/json/serialize.hpp>

namespace gatehouse::http {

void response::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> response::header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (n == lower_name) return std::string_view(v);
  return std::nullopt;
}

response json_response(int status, const boost::json::value& body) {
  response r;
  r.status = status;
  r.set_header("content-type", std::string(json_content_type));
  r.body = boost::json::serialize(body);
  return r;
}

response empty_response(int status) {
  response r;
  r.status = status;
  return r;
}

response& mark_secret(response& r) {
  r.set_header("cache-control", "no-store");
  r.set_header("pragma", "no-cache");
  return r;
}

}  // namespace gatehouse::http
