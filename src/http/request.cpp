#include "http/request.hpp"

namespace gatehouse::http {

std::optional<std::string_view> request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return std::string_view(value);
  return std::nullopt;
}

std::optional<std::string> request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto raw_name = percent_decode(pair.substr(0, eq), true);
    if (!raw_name || *raw_name != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    const std::string_view raw_value = pair.substr(eq + 1);
    // A malformed escape is returned raw, so the caller's validation rejects it.
    return percent_decode(raw_value, true).value_or(std::string(raw_value));
  }
  return std::nullopt;
}

}  // namespace gatehouse::http
