#include "aws/endpoint.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace gatehouse::aws {
namespace {

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

std::string endpoint::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::optional<endpoint> parse_endpoint(std::string_view url) {
  endpoint ep;
  ep.is_custom = true;
  if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    ep.tls = false;
    ep.port = 80;
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (url.find_first_of("?#@") != std::string_view::npos) return std::nullopt;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    ep.host = std::string(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(ep.host, ec);
    if (ec) return std::nullopt;
  } else {
    const auto colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
    for (char c : ep.host)
      if (!valid_host_char(c)) return std::nullopt;
  }
  if (ep.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
      return std::nullopt;
    ep.port = static_cast<unsigned short>(value);
  }
  if (!ep.tls && !is_loopback_host(ep.host)) return std::nullopt;  // no plain text off this machine
  ep.base_path = std::string(path);
  return ep;
}

endpoint regional_endpoint(std::string_view service, std::string_view region) {
  endpoint ep;
  ep.host = std::string(service) + "." + std::string(region) + ".amazonaws.com";
  return ep;
}

}  // namespace gatehouse::aws
