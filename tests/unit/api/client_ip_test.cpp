// Which address the rate limits key on: the front end's source_ip, or
// with TRUST_PROXY the first X-Forwarded-For address when it is one.
#include "api/client_ip.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::api {
namespace {

http::request from(std::string source_ip, std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  http::request req;
  req.source_ip = std::move(source_ip);
  req.headers.assign(headers.begin(), headers.end());
  return req;
}

TEST(client_ip, is_the_source_ip_without_trust_proxy_whatever_the_headers_say) {
  EXPECT_EQ(client_ip(from("127.0.0.1", {{"x-forwarded-for", "203.0.113.1"}}), false), "127.0.0.1");
  EXPECT_EQ(client_ip(from("198.51.100.7"), false), "198.51.100.7");
}

TEST(client_ip, is_the_first_forwarded_address_with_trust_proxy) {
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", "203.0.113.1"}}), true), "203.0.113.1");
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", " 203.0.113.1 , 10.0.0.2, 10.0.0.3"}}), true),
            "203.0.113.1");
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", "2001:DB8::1, 10.0.0.2"}}), true), "2001:db8::1")
      << "lower-cased: one IPv6 address, one key";
  // Of several headers, the first one's first address (the left-most of all).
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", "203.0.113.1"}, {"x-forwarded-for", "192.0.2.9"}}),
                      true),
            "203.0.113.1");
}

TEST(client_ip, falls_back_to_the_source_ip_when_the_first_forwarded_entry_is_no_address) {
  const std::vector<std::string> not_addresses{"", " ", ",203.0.113.1", "unknown", "203.0.113.1;evil",
                                               "localhost", "[2001:db8::1]:443", std::string(46, '1'),
                                               std::string("203.0.113.1\0x", 13)};
  for (const auto& bad : not_addresses) {
    EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", bad}}), true), "10.0.0.1") << bad;
  }
  EXPECT_EQ(client_ip(from("10.0.0.1"), true), "10.0.0.1") << "no header at all";
}

}  // namespace
}  // namespace gatehouse::api
