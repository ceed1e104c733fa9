#include "api/client_ip.hpp"
#include "base/text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

namespace gatehouse::api {
namespace {

// The longest IPv6 text form, with an embedded IPv4 address; anything
// longer is refused before it is copied.
constexpr std::size_t max_ip_chars = INET6_ADDRSTRLEN - 1;

std::string to_text(int family, const void* address) {
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (!inet_ntop(family, address, out.data(), out.size())) return {};
  return out.data();
}

// The entry `hops` from the right of all X-Forwarded-For values (the last
// header's last entry is 1), or nullopt when there are fewer.
std::optional<std::string_view> entry_from_right(const http::request& req, std::size_t hops) {
  std::size_t seen = 0;
  for (auto h = req.headers.rbegin(); h != req.headers.rend(); ++h) {
    if (h->first != "x-forwarded-for") continue;
    std::string_view rest = h->second;
    while (true) {
      const auto comma = rest.rfind(',');
      const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      if (++seen == hops) return entry;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> canonical_ip(std::string_view text) {
  const std::string_view trimmed = text::trim(text);
  if (trimmed.empty() || trimmed.size() > max_ip_chars || trimmed.find('\0') != std::string_view::npos)
    return std::nullopt;
  const std::string c_text(trimmed);  // inet_pton reads up to a NUL

  in_addr v4{};
  if (inet_pton(AF_INET, c_text.c_str(), &v4) == 1) return to_text(AF_INET, &v4);
  in6_addr v6{};
  if (inet_pton(AF_INET6, c_text.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
    return to_text(AF_INET, &v4);
  }
  std::fill(std::begin(v6.s6_addr) + 8, std::end(v6.s6_addr), 0);  // the /64
  return to_text(AF_INET6, &v6) + "/64";
}

std::string client_ip(const http::request& req, std::size_t trusted_hops) {
  if (trusted_hops > 0) {
    if (const auto entry = entry_from_right(req, trusted_hops))
      if (auto key = canonical_ip(*entry)) return std::move(*key);
  }
  if (auto key = canonical_ip(req.source_ip)) return std::move(*key);
  return text::ascii_lower(req.source_ip);
}

}  // namespace gatehouse::api
