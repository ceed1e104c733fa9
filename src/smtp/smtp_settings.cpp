#include "smtp/smtp_settings.hpp"

#include "base/text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>

namespace gatehouse::smtp {
namespace {

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument("MAIL_TRANSPORT: " + why); }

// RFC 3986 userinfo characters that may appear unencoded (the first ':'
// separates user and password; later ones belong to the password).
bool is_userinfo_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:").find(c) != std::string_view::npos;
}

// `what` names the part ("user name", "password") for the error; the
// part itself never goes into one.
std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      const int hi = i + 2 < s.size() ? text::hex_value(s[i + 1]) : -1;
      const int lo = hi >= 0 ? text::hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) refuse(std::string("the ") + what + " has a '%' not followed by two hex digits");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (!is_userinfo_char(c)) {
      refuse(std::string("the ") + what + " has a character that must be percent-encoded");
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) refuse(std::string("the ") + what + " holds a control character");
    out.push_back(c);
    if (out.size() > max_credential_bytes)
      refuse(std::string("the ") + what + " is longer than " + std::to_string(max_credential_bytes) + " bytes");
  }
  return out;
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and
// hyphens, 1..63 bytes each, no hyphen at either end, 253 bytes in all.
bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto dot = std::min(s.find('.', start), s.size());
    const auto label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    start = dot + 1;
  }
  return true;
}

std::string parse_host(std::string_view text) {
  if (text.empty()) refuse("the URL names no host");
  if (text.front() == '[') {
    if (text.back() != ']') refuse("an IPv6 host must be written [address]");
    std::string inner(text.substr(1, text.size() - 2));
    if (!is_ipv6(inner)) refuse("the host is not a valid IPv6 address");
    return text::ascii_lower(inner);
  }
  std::string host = text::ascii_lower(text);
  if (is_ipv4(host)) return host;
  // Digits and dots only but not an address ("1.2.3", "300.1.1.1") is a
  // typo, not a name.
  if (std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
    refuse("the host is not a valid IPv4 address");
  if (!is_dns_name(host)) refuse("the host is not a valid DNS name, IPv4 or [IPv6] address");
  return host;
}

unsigned short parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    refuse("the port must be a number from 1 to 65535");
  const unsigned long v = std::stoul(std::string(digits));
  if (v == 0 || v > 65535) refuse("the port must be a number from 1 to 65535");
  return static_cast<unsigned short>(v);
}

}  // namespace

smtp_settings parse_smtp_url(std::string_view url) {
  smtp_settings s;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) refuse("expected smtp:// or smtps://");
  const std::string scheme = text::ascii_lower(url.substr(0, sep));
  if (scheme == "smtps") {
    s.implicit_tls = true;
    s.port = 465;
  } else if (scheme == "smtp") {
    s.implicit_tls = false;
    s.port = 587;
  } else {
    refuse("expected smtp:// or smtps://");
  }

  std::string_view rest = url.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (end != std::string_view::npos && rest.substr(end) != "/")
    refuse("the URL may not have a path, query or fragment (only a trailing '/')");

  const auto at = authority.find('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (authority.find('@') != std::string_view::npos)
      refuse("an '@' in the user name or password must be percent-encoded as %40");
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) refuse("the URL names a user but no password");
    std::string user = percent_decode(userinfo.substr(0, colon), "user name");
    std::string pass = percent_decode(userinfo.substr(colon + 1), "password");
    if (user.empty()) refuse("the user name is empty");
    if (pass.empty()) refuse("the password is empty");
    s.username = std::move(user);
    s.password = std::move(pass);
  }

  // host, [v6], host:port or [v6]:port
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) refuse("an IPv6 host must be written [address]");
    host = authority.substr(0, close + 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') refuse("unexpected text after the IPv6 host");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  s.host = parse_host(host);
  if (port) s.port = parse_port(*port);
  return s;
}

bool is_loopback_host(std::string_view host) {
  std::string h = text::ascii_lower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace gatehouse::smtp
