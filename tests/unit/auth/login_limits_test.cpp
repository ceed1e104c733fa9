// The login and sign-up rate-limit policy (auth/login_limits) on the real
// embedded limiter (sqlite_rate_limiter over a SQLite file in a fresh
// directory per test), with the clock in the test's hand.
#include "auth/login_limits.hpp"
#include "base/error.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>

namespace gatehouse::auth {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t t0 = 1'800'000'000;  // a multiple of every window below
const std::string service_key(32, 'k');
const std::string ada = "ada@example.com";
const std::string ip = "198.51.100.7";

// Passes only when `call` throws rate_limited() (429 rate_limited) with
// Retry-After: `seconds`.
template <class F>
::testing::AssertionResult refused_for(F&& call, std::int64_t seconds) {
  try {
    call();
  } catch (const error& e) {
    if (e.kind() != error_kind::resource_exhausted || e.code() != "rate_limited")
      return ::testing::AssertionFailure() << "threw " << e.code();
    for (const auto& [name, value] : e.headers())
      if (name == "retry-after") {
        if (value == std::to_string(seconds)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "Retry-After " << value << ", not " << seconds;
      }
    return ::testing::AssertionFailure() << "no retry-after header";
  }
  return ::testing::AssertionFailure() << "accepted";
}

class login_limits_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-login-limits-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = sqlite::database::open(dir_ / "gatehouse.db");
    limiter_ = std::make_unique<sqlite::sqlite_rate_limiter>(db_);
  }
  void TearDown() override {
    limiter_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  login_limits make(limit_settings settings) { return login_limits(*limiter_, service_key, settings); }

  // The count a fresh hit on `key` sees in the window of `limit` at `now`.
  std::int64_t next_count(const std::string& key, const rate_limit& limit, std::int64_t now) {
    return limiter_->hit(key, limit, now).count;
  }

  fs::path dir_;
  std::shared_ptr<sqlite::database> db_;
  std::unique_ptr<sqlite::sqlite_rate_limiter> limiter_;
};

TEST_F(login_limits_test, the_defaults_are_5_per_15m_per_email_30_per_5m_per_ip_and_30_signups_per_hour) {
  const limit_settings d;
  EXPECT_EQ(d.login_per_email, (rate_limit{5, 900}));
  EXPECT_EQ(d.login_per_ip, (rate_limit{30, 300}));
  EXPECT_EQ(d.signup_per_ip, (rate_limit{30, 3600}));
}

TEST_F(login_limits_test, five_failed_logins_for_one_email_then_the_sixth_is_refused_until_the_window_ends) {
  auto limits = make({{5, 900}, {}, {}});
  for (int i = 0; i < 5; ++i) (void)limits.admit_login(ada, ip, t0 + i);  // each fails: the hits stay
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(ada, ip, t0 + 100); }, 800));
  EXPECT_NO_THROW((void)limits.admit_login("grace@example.com", ip, t0 + 100)) << "another e-mail";
  EXPECT_NO_THROW((void)limits.admit_login(ada, ip, t0 + 900)) << "the next window";
}

TEST_F(login_limits_test, a_success_resets_the_email_and_gives_the_ip_its_hit_back) {
  const rate_limit per_email{3, 900};
  const rate_limit per_ip{3, 300};
  auto limits = make({per_email, per_ip, {}});
  (void)limits.admit_login(ada, ip, t0);
  (void)limits.admit_login(ada, ip, t0 + 1);
  const auto hits = limits.admit_login(ada, ip, t0 + 2);  // the right password this time
  ASSERT_TRUE(hits.email && hits.ip);
  limits.login_succeeded(ada, ip, hits);

  // The e-mail starts again from zero; the IP keeps its two failures.
  EXPECT_EQ(next_count(limits.key_for("login-email", ada), per_email, t0 + 3), 1);
  EXPECT_EQ(next_count(limits.key_for("login-ip", ip), per_ip, t0 + 3), 3);
}

TEST_F(login_limits_test, failed_logins_per_ip_count_across_emails) {
  auto limits = make({{}, {3, 300}, {}});
  (void)limits.admit_login("a@example.com", ip, t0);
  (void)limits.admit_login("b@example.com", ip, t0);
  (void)limits.admit_login("c@example.com", ip, t0);
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login("d@example.com", ip, t0 + 60); }, 240));
  EXPECT_NO_THROW((void)limits.admit_login("d@example.com", "203.0.113.9", t0 + 60)) << "another address";
}

TEST_F(login_limits_test, a_login_refused_by_its_ip_does_not_count_against_its_email) {
  const rate_limit per_email{5, 900};
  auto limits = make({per_email, {1, 300}, {}});
  (void)limits.admit_login(ada, ip, t0);
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login("grace@example.com", ip, t0 + 1); }, 299));
  EXPECT_EQ(next_count(limits.key_for("login-email", "grace@example.com"), per_email, t0 + 2), 1);
}

TEST_F(login_limits_test, a_login_refused_by_its_email_does_not_count_against_its_ip) {
  const rate_limit per_ip{30, 300};
  auto limits = make({{1, 900}, per_ip, {}});
  (void)limits.admit_login(ada, ip, t0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(ada, ip, t0 + 10); }, 890));
  EXPECT_EQ(next_count(limits.key_for("login-ip", ip), per_ip, t0 + 11), 2) << "only the first attempt counted";
}

TEST_F(login_limits_test, signups_per_ip_count_every_admitted_attempt) {
  auto limits = make({{}, {}, {2, 3600}});
  limits.admit_signup(ip, t0);
  limits.admit_signup(ip, t0 + 1);
  EXPECT_TRUE(refused_for([&] { limits.admit_signup(ip, t0 + 600); }, 3000));
  EXPECT_NO_THROW(limits.admit_signup("203.0.113.9", t0 + 600));
}

TEST_F(login_limits_test, a_limit_of_zero_is_off_and_writes_nothing) {
  auto limits = make({{}, {}, {}});
  for (int i = 0; i < 50; ++i) {
    const auto hits = limits.admit_login(ada, ip, t0);
    EXPECT_FALSE(hits.email || hits.ip);
    limits.admit_signup(ip, t0);
  }
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT COUNT(*) FROM rate_limits");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int64(0), 0);
}

TEST_F(login_limits_test, stored_keys_are_keyed_hashes_without_the_email_or_ip) {
  auto limits = make({{5, 900}, {30, 300}, {30, 3600}});
  (void)limits.admit_login(ada, ip, t0);
  limits.admit_signup(ip, t0);

  const std::regex hex64("[0-9a-f]{64}");
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT key FROM rate_limits");
  int seen = 0;
  while (st.step()) {
    const std::string key = st.column_text(0);
    EXPECT_TRUE(std::regex_match(key, hex64)) << key;
    EXPECT_EQ(key.find("ada"), std::string::npos);
    EXPECT_EQ(key.find("198.51"), std::string::npos);
    ++seen;
  }
  EXPECT_EQ(seen, 3);

  // One value of each kind is its own key; another service key, other keys.
  EXPECT_NE(limits.key_for("login-ip", ip), limits.key_for("signup-ip", ip));
  EXPECT_NE(limits.key_for("login-email", ada), limits.key_for("login-email", "grace@example.com"));
  login_limits other(*limiter_, std::string(32, 'x'), {});
  EXPECT_NE(limits.key_for("login-email", ada), other.key_for("login-email", ada));
  EXPECT_EQ(limits.key_for("login-email", ada), make({}).key_for("login-email", ada)) << "deterministic";
}

TEST_F(login_limits_test, a_key_shorter_than_32_bytes_is_refused) {
  EXPECT_THROW(login_limits(*limiter_, std::string(31, 'k'), {}), std::invalid_argument);
}

TEST(rate_limited, is_429_rate_limited_with_retry_after_at_least_one_second) {
  const error e = rate_limited(42);
  EXPECT_EQ(e.kind(), error_kind::resource_exhausted);
  EXPECT_EQ(e.code(), "rate_limited");
  ASSERT_EQ(e.headers().size(), 1u);
  EXPECT_EQ(e.headers()[0], (std::pair<std::string, std::string>{"retry-after", "42"}));
  EXPECT_EQ(rate_limited(0).headers()[0].second, "1");
}

}  // namespace
}  // namespace gatehouse::auth
