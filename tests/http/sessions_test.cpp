// Sessions against the real binary, on whichever backend
// GATEHOUSE_TEST_BACKEND names: MAX_SESSIONS_PER_USER (a login revokes
// the user's oldest sessions beyond it, also after a burst of parallel
// logins), SESSION_MAX_AGE (a session ends that long after its login,
// however often it is refreshed), and Cache-Control: no-store on every
// response that carries a token.
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::testing {
namespace {

using env_map = std::map<std::string, std::string>;
using clock_type = std::chrono::steady_clock;

const std::string password = "correct horse battery";

http_result log_in(http_client& c, const std::string& email) {
  return c.post_json("/login", R"({"email":")" + email + R"(","password":")" + password + "\"}");
}

http_result refresh(http_client& c, const std::string& token) {
  return c.post_json("/token/refresh", R"({"refresh_token":")" + token + "\"}");
}

std::string refresh_token_of(const http_result& r) {
  const auto body = parse_json(r.body);
  return std::string(body.at("refresh_token").as_string());
}

// Passes for a 401 invalid_refresh_token.
::testing::AssertionResult refused(const http_result& r) {
  if (r.status == 401 && error_code_of(r) == "invalid_refresh_token") return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
}

void sign_up(http_client& c, const std::string& email) {
  const auto r = c.post_json("/signup", R"({"name":"Session Test","email":")" + email + R"(","password":")" +
                                            password + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
}

TEST(sessions, with_a_cap_of_three_six_logins_leave_exactly_the_three_newest_sessions) {
  gatehouse_process gh(env_map{{"MAX_SESSIONS_PER_USER", "3"}});
  http_client c(gh.port());
  sign_up(c, "ada@example.com");
  sign_up(c, "grace@example.com");
  const auto other = log_in(c, "grace@example.com");
  ASSERT_EQ(other.status, 200) << other.body;

  std::vector<std::string> tokens;
  for (int i = 0; i < 6; ++i) {
    const auto r = log_in(c, "ada@example.com");
    ASSERT_EQ(r.status, 200) << r.body;
    tokens.push_back(refresh_token_of(r));
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused(refresh(c, tokens[i]))) << "login " << i << " was revoked";
  for (int i = 3; i < 6; ++i) EXPECT_EQ(refresh(c, tokens[i]).status, 200) << "login " << i;
  EXPECT_EQ(refresh(c, refresh_token_of(other)).status, 200) << "another user's session is not touched";
}

TEST(sessions, after_a_burst_of_parallel_logins_one_more_login_leaves_at_most_the_cap) {
  gatehouse_process gh(env_map{{"MAX_SESSIONS_PER_USER", "3"}});
  http_client c(gh.port());
  sign_up(c, "ada@example.com");

  const auto burst = all_at_once(12, gh.port(), [](http_client& each, int) { return log_in(each, "ada@example.com"); });
  std::vector<std::string> tokens;
  for (const auto& r : burst) {
    ASSERT_EQ(r.status, 200) << r.body;
    tokens.push_back(refresh_token_of(r));
  }
  const auto last = log_in(c, "ada@example.com");
  ASSERT_EQ(last.status, 200) << last.body;
  tokens.push_back(refresh_token_of(last));

  int live = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto r = refresh(c, tokens[i]);
    if (r.status == 200) {
      ++live;
    } else {
      EXPECT_TRUE(refused(r));
    }
    // A login always keeps its own session; nothing logged in after the last.
    if (i + 1 == tokens.size()) {
      EXPECT_EQ(r.status, 200) << "the last login's session";
    }
  }
  EXPECT_LE(live, 3) << "of 13 logins";
}

TEST(sessions, a_session_ends_at_session_max_age_however_often_it_is_refreshed) {
  gatehouse_process gh(env_map{{"SESSION_MAX_AGE", "10s"}});
  http_client c(gh.port());
  sign_up(c, "ada@example.com");

  const auto before = clock_type::now();
  const auto login = log_in(c, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  const auto after = clock_type::now();
  std::string token = refresh_token_of(login);

  // The server's second of the login is at most 1 s before `before`, so
  // the session lives at least 9 s after it and ends at most 10 s after
  // `after`: refreshes before 8 s must work, and one from 11 s on must not.
  bool ended = false;
  while (!ended) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const auto r = refresh(c, token);
    const auto since_before = clock_type::now() - before;
    const auto since_after = clock_type::now() - after;
    if (r.status == 200) {
      ASSERT_LT(since_after, std::chrono::seconds(11)) << "refreshed past SESSION_MAX_AGE";
      token = refresh_token_of(r);
      continue;
    }
    EXPECT_TRUE(refused(r));
    EXPECT_GE(since_before, std::chrono::seconds(8)) << "ended too early";
    ended = true;
  }
  EXPECT_TRUE(refused(refresh(c, token))) << "and it stays ended";
  EXPECT_EQ(log_in(c, "ada@example.com").status, 200) << "a new login starts a new session";
}

TEST(sessions, responses_that_carry_tokens_are_never_cached) {
  gatehouse_process gh;
  http_client c(gh.port());
  sign_up(c, "ada@example.com");

  const auto login = log_in(c, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.header("cache-control"), "no-store");
  EXPECT_EQ(login.header("pragma"), "no-cache");

  const auto next = refresh(c, refresh_token_of(login));
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.header("cache-control"), "no-store");
  EXPECT_EQ(next.header("pragma"), "no-cache");

  // A response without a secret is left to the usual rules.
  const auto health = c.get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_FALSE(health.has_header("pragma"));
  EXPECT_NE(health.header("cache-control"), "no-store");
}

}  // namespace
}  // namespace gatehouse::testing
