// TRUST_PROXY against the real binary, on whichever backend
// GATEHOUSE_TEST_BACKEND names: behind N proxies the rate-limit key is the
// X-Forwarded-For entry N from the right (proxies append; the left is the
// client's own text), so a client that writes a fresh leftmost entry into
// every request, or rotates through the addresses of its IPv6 /64, still
// meets its per-IP limits (docs/SECURITY.md, issue 12 finding 4).
//
// Here the test is both the client and the proxies: it sends the header as
// the proxy next to Gatehouse would pass it on.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <thread>

namespace gatehouse::testing {
namespace {

using env_map = std::map<std::string, std::string>;

// Returns once at least `needed` seconds remain in the current fixed window
// of `window` seconds, so every request of a test falls into one window.
void wait_clear_of_window_end(std::int64_t window, std::int64_t needed) {
  const std::int64_t now = std::time(nullptr);
  const std::int64_t left = window - now % window;
  if (left < needed) std::this_thread::sleep_for(std::chrono::seconds(left) + std::chrono::milliseconds(200));
}

std::mt19937& rng() {
  static std::mt19937 r{std::random_device{}()};
  return r;
}

// What an attacker writes as the leftmost entry: a new address every time.
std::string random_ipv4() {
  std::uniform_int_distribution<int> octet(1, 254);
  return std::to_string(octet(rng())) + "." + std::to_string(octet(rng())) + "." + std::to_string(octet(rng())) +
         "." + std::to_string(octet(rng()));
}

std::string random_hextet() {
  static constexpr char hex[] = "0123456789abcdef";
  std::uniform_int_distribution<int> digit(0, 15);
  std::string out;
  for (int i = 0; i < 4; ++i) out += hex[digit(rng())];
  return out;
}

int attempt = 0;
http_result fail_login(http_client& c, const std::string& forwarded_for) {
  // A new e-mail every time: only the per-IP limit can answer 429.
  const std::string email = "proxy" + std::to_string(++attempt) + "-" + random_hextet() + "@example.com";
  header_list headers;
  if (!forwarded_for.empty()) headers.emplace_back("x-forwarded-for", forwarded_for);
  return c.post_json("/login", R"({"email":")" + email + R"(","password":"not the password"})", headers);
}

::testing::AssertionResult refused(const http_result& r) {
  if (r.status == 401 && error_code_of(r) == "invalid_credentials") return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
}

::testing::AssertionResult limited(const http_result& r) {
  if (r.status == 429 && error_code_of(r) == "rate_limited" && !r.header("retry-after").empty())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
}

TEST(trust_proxy, a_client_cannot_escape_the_per_ip_limit_by_writing_a_new_leftmost_entry_each_time) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_IP", "3/1h"}, {"TRUST_PROXY", "1"}});
  http_client c(gh.port());
  wait_clear_of_window_end(3600, 60);

  // The proxy appends the attacker's real address, 203.0.113.50, to whatever it sent.
  const auto attack = [&] { return fail_login(c, random_ipv4() + ", 203.0.113.50"); };
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused(attack())) << i;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limited(attack())) << "spoofed leftmost entry " << i << " escaped";
  // A rotated header (the proxy's entry in a header of its own) is the same client.
  EXPECT_TRUE(limited(c.post_json("/login", R"({"email":"rotated@example.com","password":"not the password"})",
                                  {{"x-forwarded-for", random_ipv4()}, {"x-forwarded-for", "203.0.113.50"}})));

  // Another client behind the same proxy is not limited, whatever it claims
  // to be; nor is the proxy itself.
  EXPECT_TRUE(refused(fail_login(c, "203.0.113.50, 198.51.100.9")));
  EXPECT_TRUE(refused(fail_login(c, "")));
}

TEST(trust_proxy, an_ipv6_client_is_one_key_for_its_whole_64) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_IP", "3/1h"}, {"TRUST_PROXY", "true"}});
  http_client c(gh.port());
  wait_clear_of_window_end(3600, 60);

  // A host that owns 2001:db8:7:7::/64 takes a new address for every request.
  const auto from_the_64 = [&] {
    return fail_login(c, "2001:db8:7:7:" + random_hextet() + ":" + random_hextet() + ":" + random_hextet() + ":" +
                             random_hextet());
  };
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused(from_the_64())) << i;
  EXPECT_TRUE(limited(from_the_64()));
  EXPECT_TRUE(limited(fail_login(c, "2001:DB8:7:7::1"))) << "another spelling of the same /64";
  // The neighbouring /64 is someone else; an IPv4-mapped address is that IPv4 client.
  EXPECT_TRUE(refused(fail_login(c, "2001:db8:7:8::1")));
  EXPECT_TRUE(refused(fail_login(c, "::ffff:203.0.113.60")));
  EXPECT_TRUE(refused(fail_login(c, "203.0.113.60")));
  EXPECT_TRUE(refused(fail_login(c, "::ffff:203.0.113.60")));
  EXPECT_TRUE(limited(fail_login(c, "203.0.113.60"))) << "mapped and plain IPv4 share one key";
}

TEST(trust_proxy, behind_two_proxies_the_second_entry_from_the_right_is_the_client_and_a_short_chain_is_the_peer) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_IP", "3/1h"}, {"TRUST_PROXY", "2"}});
  http_client c(gh.port());
  wait_clear_of_window_end(3600, 60);

  // client -> proxy A (appends the client, 203.0.113.70) -> proxy B (appends A, 10.0.0.2).
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused(fail_login(c, random_ipv4() + ", 203.0.113.70, 10.0.0.2"))) << i;
  EXPECT_TRUE(limited(fail_login(c, random_ipv4() + ", 203.0.113.70, 10.0.0.3")));
  EXPECT_TRUE(refused(fail_login(c, "203.0.113.71, 10.0.0.2"))) << "another client";

  // One entry where two proxies should have written two: not the configured
  // path, so the key is the socket peer, shared with requests without a header.
  EXPECT_TRUE(refused(fail_login(c, random_ipv4())));
  EXPECT_TRUE(refused(fail_login(c, random_ipv4())));
  EXPECT_TRUE(refused(fail_login(c, "")));
  EXPECT_TRUE(limited(fail_login(c, random_ipv4())));
  // Junk in the client's position: the peer too.
  EXPECT_TRUE(limited(fail_login(c, "unknown, 10.0.0.2")));
}

}  // namespace
}  // namespace gatehouse::testing
