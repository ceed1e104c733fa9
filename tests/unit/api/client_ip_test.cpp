// Which key the rate limits use for a request (api/client_ip): the source
// address, or with TRUST_PROXY=N the X-Forwarded-For entry N from the right
// (proxies append; everything to the left is the client's own text), every
// address canonical, IPv4-mapped IPv6 as IPv4 and other IPv6 by its /64.
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

http::request forwarded(std::string xff) { return from("10.0.0.1", {{"x-forwarded-for", std::move(xff)}}); }

TEST(canonical_ip, keeps_ipv4_and_refuses_what_is_not_exactly_an_address) {
  EXPECT_EQ(canonical_ip("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(canonical_ip(" \t203.0.113.7 "), "203.0.113.7");
  const std::vector<std::string> junk{"", " ", "unknown", "localhost", "203.0.113.7;evil", "203.0.113.7:443",
                                      "[2001:db8::1]", "[2001:db8::1]:443", "fe80::1%eth0", "203.0.113",
                                      "203.0.113.256", "0x7f.0.0.1", "2001:db8::1::2", std::string(46, '1'),
                                      std::string("203.0.113.7\0x", 13), "203.0.113.7, 10.0.0.1"};
  for (const auto& bad : junk) EXPECT_EQ(canonical_ip(bad), std::nullopt) << bad;
}

TEST(canonical_ip, gives_one_key_per_ipv6_64_whatever_the_spelling) {
  // Two hosts in one /64, spelt differently: one key.
  EXPECT_EQ(canonical_ip("2001:DB8:0:1::1"), "2001:db8:0:1::/64");
  EXPECT_EQ(canonical_ip("2001:0db8:0000:0001:ffff:1234:abcd:0002"), "2001:db8:0:1::/64");
  // The neighbouring /64 is another key.
  EXPECT_EQ(canonical_ip("2001:db8:0:2::1"), "2001:db8:0:2::/64");
  EXPECT_EQ(canonical_ip("::1"), "::/64");
}

TEST(canonical_ip, turns_ipv4_mapped_ipv6_into_ipv4) {
  EXPECT_EQ(canonical_ip("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(canonical_ip("::FFFF:cb00:7107"), "203.0.113.7");
  EXPECT_EQ(canonical_ip("0:0:0:0:0:ffff:127.0.0.1"), "127.0.0.1");
}

TEST(client_ip, is_the_source_ip_without_trust_proxy_whatever_the_headers_say) {
  EXPECT_EQ(client_ip(from("127.0.0.1", {{"x-forwarded-for", "203.0.113.1"}}), 0), "127.0.0.1");
  EXPECT_EQ(client_ip(from("198.51.100.7"), 0), "198.51.100.7");
}

TEST(client_ip, canonicalises_the_source_ip_too) {
  // A dual-stack socket reports IPv4 peers as mapped addresses; Lambda's sourceIp may be either.
  EXPECT_EQ(client_ip(from("::ffff:198.51.100.7"), 0), "198.51.100.7");
  EXPECT_EQ(client_ip(from("2001:db8:5:6:7:8:9:a"), 0), "2001:db8:5:6::/64");
  EXPECT_EQ(client_ip(from("2001:db8:5:6::ffff"), 3), "2001:db8:5:6::/64") << "no header: the source";
  EXPECT_EQ(client_ip(from("Not-An-Address"), 0), "not-an-address") << "kept as it is, lower-cased";
}

TEST(client_ip, with_one_proxy_is_the_rightmost_entry_whatever_the_client_put_left_of_it) {
  EXPECT_EQ(client_ip(forwarded("203.0.113.1"), 1), "203.0.113.1");
  // The client sent "198.51.100.66" itself; the proxy appended what it saw.
  EXPECT_EQ(client_ip(forwarded("198.51.100.66, 203.0.113.1"), 1), "203.0.113.1");
  EXPECT_EQ(client_ip(forwarded("1.1.1.1,2.2.2.2,3.3.3.3 , 203.0.113.1"), 1), "203.0.113.1");
  // Spoofed leftmost entries of every kind change nothing.
  for (const std::string spoof : {"127.0.0.1", "unknown", "::1", "10.0.0.1", ""})
    EXPECT_EQ(client_ip(forwarded(spoof + ", 203.0.113.1"), 1), "203.0.113.1") << spoof;
}

TEST(client_ip, with_n_proxies_is_the_entry_n_from_the_right) {
  // client -> proxy A (appends the client) -> proxy B (appends A) -> Gatehouse.
  const auto two_proxies = forwarded("6.6.6.6, 203.0.113.1, 10.0.0.2");
  EXPECT_EQ(client_ip(two_proxies, 2), "203.0.113.1");
  EXPECT_EQ(client_ip(two_proxies, 1), "10.0.0.2");
  EXPECT_EQ(client_ip(two_proxies, 3), "6.6.6.6") << "trusting three: the third from the right";
  // A proxy that adds a header of its own rather than appending: all
  // headers are one list, in order.
  const auto rotated = from("10.0.0.1", {{"x-forwarded-for", "6.6.6.6, 203.0.113.1"}, {"x-forwarded-for", "10.0.0.2"}});
  EXPECT_EQ(client_ip(rotated, 2), "203.0.113.1");
  EXPECT_EQ(client_ip(rotated, 1), "10.0.0.2");
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-forwarded-for", "203.0.113.1"}, {"x-forwarded-for", "10.0.0.2, 10.0.0.3"}}), 3),
            "203.0.113.1");
}

TEST(client_ip, falls_back_to_the_source_ip_when_the_chain_is_shorter_than_trusted) {
  // Fewer entries than proxies: not the configured path. The leftmost
  // entry could be the client's own text, so the socket peer is the key.
  EXPECT_EQ(client_ip(forwarded("203.0.113.1"), 2), "10.0.0.1");
  EXPECT_EQ(client_ip(forwarded("6.6.6.6, 203.0.113.1"), 3), "10.0.0.1");
  EXPECT_EQ(client_ip(from("10.0.0.1"), 1), "10.0.0.1") << "no header at all";
  EXPECT_EQ(client_ip(from("10.0.0.1", {{"x-real-ip", "203.0.113.1"}}), 1), "10.0.0.1") << "another header";
}

TEST(client_ip, falls_back_to_the_source_ip_when_the_chosen_entry_is_no_address) {
  const std::vector<std::string> not_addresses{"", " ", "203.0.113.1,", "unknown", "203.0.113.1;evil",
                                               "localhost", "[2001:db8::1]:443", std::string(46, '1'),
                                               std::string("203.0.113.1\0x", 13), "203.0.113.1:5555"};
  for (const auto& bad : not_addresses)
    EXPECT_EQ(client_ip(forwarded(bad), 1), "10.0.0.1") << bad;
  // Junk left of the chosen entry does not matter.
  EXPECT_EQ(client_ip(forwarded("junk;;, 203.0.113.1"), 1), "203.0.113.1");
}

TEST(client_ip, keys_forwarded_ipv6_by_its_64_and_mapped_ipv4_as_ipv4) {
  EXPECT_EQ(client_ip(forwarded("6.6.6.6, 2001:db8:a:b::1"), 1), "2001:db8:a:b::/64");
  EXPECT_EQ(client_ip(forwarded("2001:db8:a:b:ffff:ffff:ffff:ffff"), 1), "2001:db8:a:b::/64");
  EXPECT_NE(client_ip(forwarded("2001:db8:a:c::1"), 1), client_ip(forwarded("2001:db8:a:b::1"), 1));
  EXPECT_EQ(client_ip(forwarded("::ffff:203.0.113.1"), 1), "203.0.113.1");
  EXPECT_EQ(client_ip(forwarded("::ffff:203.0.113.1"), 1), client_ip(forwarded("203.0.113.1"), 1));
}

}  // namespace
}  // namespace gatehouse::api
