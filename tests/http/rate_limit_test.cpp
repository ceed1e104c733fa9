// Rate limits (README "Rate limits") against the real binary, on whichever
// backend GATEHOUSE_TEST_BACKEND names: failed logins per (e-mail, source
// IP), per e-mail from anywhere and per source IP, every login per source
// IP, sign-ups per source IP, each with its Retry-After; the window reset;
// one limit shared by two server processes on one store; and
// X-Forwarded-For, ignored unless TRUST_PROXY is set (which is how these
// tests log in from several addresses).
//
// Windows are fixed (they start at multiples of their length), so a test
// whose requests must fall into one window first waits, if need be, until
// it is clear of a window's end: never a tight timing assertion.
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <thread>

namespace gatehouse::testing {
namespace {

using env_map = std::map<std::string, std::string>;

const std::string password = "correct horse battery";

// Every rate-limit variable unset: the server runs on the built-in defaults.
const env_map default_limits{{"RATE_LIMIT_LOGIN_PER_EMAIL_IP", unset_variable},
                             {"RATE_LIMIT_LOGIN_PER_EMAIL", unset_variable},
                             {"RATE_LIMIT_LOGIN_PER_IP", unset_variable},
                             {"RATE_LIMIT_LOGINS_PER_IP", unset_variable},
                             {"RATE_LIMIT_SIGNUP_PER_IP", unset_variable}};

// A request header that makes the request come from `ip` (TRUST_PROXY on).
header_list from(const std::string& ip) { return {{"x-forwarded-for", ip}}; }

env_map with(env_map base, const env_map& extra) {
  for (const auto& [k, v] : extra) base[k] = v;
  return base;
}

// Returns once at least `needed` seconds remain in the current fixed window
// of `window` seconds (sleeping into the next window when they do not).
void wait_clear_of_window_end(std::int64_t window, std::int64_t needed) {
  const std::int64_t now = std::time(nullptr);
  const std::int64_t left = window - now % window;
  if (left < needed) std::this_thread::sleep_for(std::chrono::seconds(left) + std::chrono::milliseconds(200));
}

http_result sign_up(http_client& c, const std::string& email, header_list headers = {}) {
  return c.post_json("/signup", R"({"name":"Rate Test","email":")" + email + R"(","password":")" + password + "\"}",
                     headers);
}

http_result log_in(http_client& c, const std::string& email, const std::string& pw, header_list headers = {}) {
  return c.post_json("/login", R"({"email":")" + email + R"(","password":")" + pw + "\"}", headers);
}

http_result fail_login(http_client& c, const std::string& email, header_list headers = {}) {
  return log_in(c, email, "not the password", std::move(headers));
}

// Passes for a 429 rate_limited whose Retry-After is an integer in 1..max_seconds.
::testing::AssertionResult limited(const http_result& r, int max_seconds) {
  if (r.status != 429) return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
  if (error_code_of(r) != "rate_limited") return ::testing::AssertionFailure() << "code: " << r.body;
  const std::string retry = r.header("retry-after");
  if (retry.empty() || retry.find_first_not_of("0123456789") != std::string::npos || retry.size() > 9)
    return ::testing::AssertionFailure() << "Retry-After is not a whole number of seconds: '" << retry << "'";
  const int seconds = std::stoi(retry);
  if (seconds < 1 || seconds > max_seconds)
    return ::testing::AssertionFailure() << "Retry-After " << seconds << " outside 1.." << max_seconds;
  return ::testing::AssertionSuccess();
}

// Passes for a 401 invalid_credentials.
::testing::AssertionResult refused_credentials(const http_result& r) {
  if (r.status == 401 && error_code_of(r) == "invalid_credentials") return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
}

TEST(rate_limit, by_default_the_sixth_login_after_five_failures_for_one_email_from_one_address_is_429_even_with_the_right_password) {
  gatehouse_process gh(default_limits);
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  ASSERT_EQ(sign_up(c, "grace@example.com").status, 201);
  wait_clear_of_window_end(15 * 60, 30);

  // Spellings that normalise to one address count as one.
  for (const char* spelling : {"ada@example.com", "ADA@example.com", " Ada@Example.COM ", "ada@example.com",
                               "ada@EXAMPLE.com"})
    EXPECT_TRUE(refused_credentials(fail_login(c, spelling))) << spelling;

  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password), 15 * 60));
  EXPECT_TRUE(limited(fail_login(c, "ada@example.com"), 15 * 60)) << "still refused, not 401";

  // Another e-mail from the same address is not affected.
  EXPECT_EQ(log_in(c, "grace@example.com", password).status, 200);

  // An unknown e-mail is limited exactly like a known one: no enumeration.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(refused_credentials(fail_login(c, "nobody@example.com"))) << i;
  EXPECT_TRUE(limited(fail_login(c, "nobody@example.com"), 15 * 60));
}

TEST(rate_limit, a_successful_login_before_the_limit_resets_the_per_email_and_ip_count) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "3/1h"}});
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  wait_clear_of_window_end(3600, 30);

  EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com")));
  EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com")));
  EXPECT_EQ(log_in(c, "ada@example.com", password).status, 200);
  // Three more failures fit: the two before the success no longer count.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com"))) << i;
  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password), 3600));
}

TEST(rate_limit, a_strangers_failures_from_one_address_do_not_lock_the_owner_out_at_another) {
  gatehouse_process gh(with(default_limits, {{"TRUST_PROXY", "true"}}));
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  wait_clear_of_window_end(15 * 60, 30);

  // The attack: five wrong passwords from the stranger's address, again and again.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com", from("203.0.113.66")))) << i;
  EXPECT_TRUE(limited(fail_login(c, "ada@example.com", from("203.0.113.66")), 15 * 60));
  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password, from("203.0.113.66")), 15 * 60))
      << "the stranger's address is held back, even with the password";

  // The owner, at home: not locked out, and a typo there is still just a typo.
  EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com", from("198.51.100.10"))));
  EXPECT_EQ(log_in(c, "ada@example.com", password, from("198.51.100.10")).status, 200);
}

TEST(rate_limit, failures_for_one_email_from_many_addresses_meet_the_slower_per_email_limit) {
  gatehouse_process gh(with(default_limits, {{"TRUST_PROXY", "true"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "6/1h"}}));
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  ASSERT_EQ(sign_up(c, "grace@example.com").status, 201);
  wait_clear_of_window_end(3600, 30);

  // A distributed guess: two tries from each of three addresses, under every per-address limit.
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(refused_credentials(fail_login(c, "ada@example.com", from("203.0.113." + std::to_string(i / 2)))))
        << i;
  EXPECT_TRUE(limited(fail_login(c, "ada@example.com", from("203.0.113.50")), 3600)) << "a fresh address";
  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password, from("198.51.100.10")), 3600))
      << "bounded for everyone, the owner too";
  EXPECT_EQ(log_in(c, "grace@example.com", password, from("203.0.113.50")).status, 200) << "another e-mail";
}

TEST(rate_limit, every_login_per_ip_counts_successes_too_then_429) {
  gatehouse_process gh(env_map{{"TRUST_PROXY", "true"}, {"RATE_LIMIT_LOGINS_PER_IP", "3/1m"}});
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  wait_clear_of_window_end(60, 20);

  for (int i = 0; i < 3; ++i) EXPECT_EQ(log_in(c, "ada@example.com", password, from("203.0.113.7")).status, 200) << i;
  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password, from("203.0.113.7")), 60));
  EXPECT_TRUE(limited(fail_login(c, "grace@example.com", from("203.0.113.7")), 60)) << "whatever the e-mail";
  EXPECT_EQ(log_in(c, "ada@example.com", password, from("203.0.113.8")).status, 200) << "another address";
}

TEST(rate_limit, failed_logins_per_ip_across_emails_then_429_and_successes_do_not_count) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_IP", "3/1m"}});
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);
  wait_clear_of_window_end(60, 20);

  for (int i = 0; i < 5; ++i) EXPECT_EQ(log_in(c, "ada@example.com", password).status, 200) << i;
  for (const char* email : {"one@example.com", "two@example.com", "ada@example.com"})
    EXPECT_TRUE(refused_credentials(fail_login(c, email))) << email;
  EXPECT_TRUE(limited(log_in(c, "ada@example.com", password), 60));
  EXPECT_TRUE(limited(fail_login(c, "four@example.com"), 60));
}

TEST(rate_limit, signups_per_ip_count_every_valid_attempt_including_a_409_then_429) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_SIGNUP_PER_IP", "2/1h"}});
  http_client c(gh.port());
  wait_clear_of_window_end(3600, 30);

  // Invalid fields are refused before the limit: they do not count.
  for (int i = 0; i < 3; ++i) {
    const auto invalid = c.post_json("/signup", R"({"name":"X","email":"not-an-email","password":"correct horse"})");
    EXPECT_EQ(invalid.status, 400) << invalid.body;
  }
  EXPECT_EQ(sign_up(c, "ada@example.com").status, 201);
  const auto taken = sign_up(c, "ada@example.com");
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_TRUE(limited(sign_up(c, "grace@example.com"), 3600));
  // Logging in is another limit: unaffected.
  EXPECT_EQ(log_in(c, "ada@example.com", password).status, 200);
}

TEST(rate_limit, the_window_frees_after_retry_after_seconds) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_EMAIL", "2/2s"}});
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "ada@example.com").status, 201);

  // Failures until refused: a window boundary may pass in between, but
  // within a few more attempts one window sees three.
  http_result refused;
  for (int i = 0; i < 12 && refused.status != 429; ++i) {
    refused = fail_login(c, "ada@example.com");
    ASSERT_TRUE(refused.status == 401 || refused.status == 429) << refused.body;
  }
  ASSERT_TRUE(limited(refused, 2));

  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(refused.header("retry-after")) + 1));
  EXPECT_EQ(log_in(c, "ada@example.com", password).status, 200) << "the new window starts from zero";
}

TEST(rate_limit, two_server_processes_on_one_store_share_the_counts) {
  // One store for both: the same DATA_DIR (SQLite in WAL mode, shared by
  // two processes) or the same DynamoDB tables.
  temp_dir shared_dir;
  const env_map shared = with(backend_env(), {{"DATA_DIR", (shared_dir.path() / "data").string()},
                                              {"RATE_LIMIT_LOGIN_PER_EMAIL", "4/1h"},
                                              {"RATE_LIMIT_SIGNUP_PER_IP", "3/1h"}});
  gatehouse_process a(shared);
  gatehouse_process b(shared);
  http_client ca(a.port());
  http_client cb(b.port());
  wait_clear_of_window_end(3600, 60);

  ASSERT_EQ(sign_up(ca, "ada@example.com").status, 201);
  EXPECT_EQ(log_in(cb, "ada@example.com", password).status, 200) << "one store: B knows A's user";

  EXPECT_TRUE(refused_credentials(fail_login(ca, "ada@example.com")));
  EXPECT_TRUE(refused_credentials(fail_login(cb, "ada@example.com")));
  EXPECT_TRUE(refused_credentials(fail_login(ca, "ada@example.com")));
  EXPECT_TRUE(refused_credentials(fail_login(cb, "ada@example.com")));
  EXPECT_TRUE(limited(log_in(ca, "ada@example.com", password), 3600)) << "two failures on A, two on B";
  EXPECT_TRUE(limited(log_in(cb, "ada@example.com", password), 3600));

  // Sign-ups: one on A and two on B make three; the fourth, on A, is refused.
  EXPECT_EQ(sign_up(cb, "b1@example.com").status, 201);
  EXPECT_EQ(sign_up(cb, "b2@example.com").status, 201);
  EXPECT_TRUE(limited(sign_up(ca, "a2@example.com"), 3600));
}

TEST(rate_limit, x_forwarded_for_is_ignored_by_default) {
  gatehouse_process gh(env_map{{"RATE_LIMIT_LOGIN_PER_IP", "2/1h"}});
  http_client c(gh.port());
  wait_clear_of_window_end(3600, 30);

  EXPECT_TRUE(refused_credentials(fail_login(c, "a@example.com", {{"x-forwarded-for", "203.0.113.1"}})));
  EXPECT_TRUE(refused_credentials(fail_login(c, "b@example.com", {{"x-forwarded-for", "203.0.113.2"}})));
  // A third address in the header changes nothing: the socket peer is the key.
  EXPECT_TRUE(limited(fail_login(c, "c@example.com", {{"x-forwarded-for", "203.0.113.3"}}), 3600));
  EXPECT_TRUE(limited(fail_login(c, "d@example.com"), 3600));
}

// TRUST_PROXY (which X-Forwarded-For entry is the client): tests/http/proxy_test.cpp.

}  // namespace
}  // namespace gatehouse::testing
