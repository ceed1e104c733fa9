#include "aws/http_types.hpp"

#include "base/text.hpp"

namespace gatehouse::aws {

std::optional<std::string_view> http_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (text::ascii_iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

void http_request::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (text::ascii_iequals(n, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> http_response::header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (n == lower_name) return std::string_view(v);
  return std::nullopt;
}

}  // namespace gatehouse::aws
