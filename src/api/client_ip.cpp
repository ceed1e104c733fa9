#include "api/client_ip.hpp"
#include "base/text.hpp"

#include <string_view>

namespace gatehouse::api {
namespace {

constexpr std::size_t max_ip_chars = 45;  // the longest IPv6 text form, with an embedded IPv4

bool is_ip_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

using text::trim;
std::string lower(std::string_view s) { return text::ascii_lower(s); }

}  // namespace

std::string client_ip(const http::request& req, bool trust_proxy) {
  if (trust_proxy) {
    if (const auto forwarded = req.header("x-forwarded-for")) {
      const std::string_view first = trim(forwarded->substr(0, forwarded->find(',')));
      bool plausible = !first.empty() && first.size() <= max_ip_chars;
      for (char c : first) plausible = plausible && is_ip_char(c);
      if (plausible) return lower(first);
    }
  }
  return lower(req.source_ip);
}

}  // namespace gatehouse::api
