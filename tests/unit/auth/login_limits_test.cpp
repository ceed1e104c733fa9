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

// Every limit off; a test turns on the ones it is about.
limit_settings none() {
  limit_settings s;
  s.login_per_email_ip = s.login_per_email = s.login_per_ip = s.logins_per_ip = s.signup_per_ip = {};
  return s;
}

using key = login_limits::login_key;

TEST_F(login_limits_test, the_defaults) {
  const limit_settings d;
  EXPECT_EQ(d.login_per_email_ip, (rate_limit{5, 900}));
  EXPECT_EQ(d.login_per_email, (rate_limit{100, 3600}));
  EXPECT_EQ(d.login_per_ip, (rate_limit{30, 300}));
  EXPECT_EQ(d.logins_per_ip, (rate_limit{100, 300}));
  EXPECT_EQ(d.signup_per_ip, (rate_limit{30, 3600}));
}

TEST_F(login_limits_test, five_failures_for_one_email_from_one_address_then_the_sixth_is_refused_there_only) {
  auto s = none();
  s.login_per_email_ip = {5, 900};
  auto limits = make(s);
  for (int i = 0; i < 5; ++i) (void)limits.admit_login(ada, ip, t0 + i);  // each fails: the hits stay
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(ada, ip, t0 + 100); }, 800));
  EXPECT_NO_THROW((void)limits.admit_login(ada, "203.0.113.9", t0 + 100)) << "the owner, elsewhere";
  EXPECT_NO_THROW((void)limits.admit_login("grace@example.com", ip, t0 + 100)) << "another e-mail";
  EXPECT_NO_THROW((void)limits.admit_login(ada, ip, t0 + 900)) << "the next window";
}

TEST_F(login_limits_test, failures_for_one_email_from_many_addresses_meet_the_slower_limit) {
  auto s = none();
  s.login_per_email_ip = {5, 900};
  s.login_per_email = {8, 3600};
  auto limits = make(s);
  for (int i = 0; i < 8; ++i) (void)limits.admit_login(ada, "203.0.113." + std::to_string(i), t0 + i);
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(ada, "198.51.100.200", t0 + 600); }, 3000));
  EXPECT_NO_THROW((void)limits.admit_login("grace@example.com", "198.51.100.200", t0 + 600));
}

TEST_F(login_limits_test, a_success_resets_its_pair_and_gives_back_only_its_own_failure_hits) {
  auto s = none();
  s.login_per_email_ip = {3, 900};
  s.login_per_email = {100, 3600};
  s.login_per_ip = {30, 300};
  s.logins_per_ip = {100, 300};
  auto limits = make(s);
  (void)limits.admit_login(ada, "203.0.113.1", t0);  // a stranger's failure elsewhere
  (void)limits.admit_login(ada, ip, t0);
  (void)limits.admit_login(ada, ip, t0 + 1);
  const auto hits = limits.admit_login(ada, ip, t0 + 2);  // the right password this time
  for (auto k : {key::email_ip, key::email, key::ip_failures, key::ip_logins}) ASSERT_TRUE(hits[k]);
  limits.login_succeeded(ada, ip, hits);

  const auto next = [&](key k, const rate_limit& l) {
    return next_count(limits.login_key_for(k, ada, ip), l, t0 + 3);
  };
  EXPECT_EQ(next(key::email_ip, s.login_per_email_ip), 1) << "the pair starts again from zero";
  EXPECT_EQ(next(key::email, s.login_per_email), 4) << "three failures, the stranger's included";
  EXPECT_EQ(next(key::ip_failures, s.login_per_ip), 3) << "the address keeps its two failures";
  EXPECT_EQ(next(key::ip_logins, s.logins_per_ip), 4) << "every login counts, the success too";
}

TEST_F(login_limits_test, every_login_per_ip_counts_successes_included) {
  auto s = none();
  s.logins_per_ip = {3, 300};
  auto limits = make(s);
  for (int i = 0; i < 3; ++i) limits.login_succeeded(ada, ip, limits.admit_login(ada, ip, t0 + i));
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(ada, ip, t0 + 60); }, 240));
  EXPECT_NO_THROW((void)limits.admit_login(ada, "203.0.113.9", t0 + 60)) << "another address";
}

TEST_F(login_limits_test, failed_logins_per_ip_count_across_emails) {
  auto s = none();
  s.login_per_ip = {3, 300};
  auto limits = make(s);
  (void)limits.admit_login("a@example.com", ip, t0);
  (void)limits.admit_login("b@example.com", ip, t0);
  (void)limits.admit_login("c@example.com", ip, t0);
  EXPECT_TRUE(refused_for([&] { (void)limits.admit_login("d@example.com", ip, t0 + 60); }, 240));
  EXPECT_NO_THROW((void)limits.admit_login("d@example.com", "203.0.113.9", t0 + 60)) << "another address";
}

TEST_F(login_limits_test, a_login_refused_by_any_key_counts_under_none_of_the_others) {
  const limit_settings all;  // the defaults, every login key on
  // Which key refuses: each in turn set to 1 and used up by a first attempt.
  for (auto refusing : {key::email_ip, key::email, key::ip_failures, key::ip_logins}) {
    SCOPED_TRACE(static_cast<int>(refusing));
    auto s = all;
    const std::int64_t start = t0 + 86400 * (1 + static_cast<int>(refusing));  // fresh windows per round
    rate_limit* tight = refusing == key::email_ip ? &s.login_per_email_ip
                        : refusing == key::email  ? &s.login_per_email
                        : refusing == key::ip_failures ? &s.login_per_ip
                                                       : &s.logins_per_ip;
    *tight = {1, tight->window_seconds};
    auto limits = make(s);
    const std::string email = "round" + std::to_string(static_cast<int>(refusing)) + "@example.com";
    (void)limits.admit_login(email, ip, start);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(refused_for([&] { (void)limits.admit_login(email, ip, start + 10); }, tight->window_seconds - 10));
    for (auto k : {key::email_ip, key::email, key::ip_failures, key::ip_logins}) {
      if (k == refusing) continue;
      const rate_limit& l = k == key::email_ip ? s.login_per_email_ip
                            : k == key::email  ? s.login_per_email
                            : k == key::ip_failures ? s.login_per_ip
                                                    : s.logins_per_ip;
      EXPECT_EQ(next_count(limits.login_key_for(k, email, ip), l, start + 11), 2)
          << static_cast<int>(k) << ": only the first attempt counted";
    }
  }
}

TEST_F(login_limits_test, signups_per_ip_count_every_admitted_attempt) {
  auto s = none();
  s.signup_per_ip = {2, 3600};
  auto limits = make(s);
  limits.admit_signup(ip, t0);
  limits.admit_signup(ip, t0 + 1);
  EXPECT_TRUE(refused_for([&] { limits.admit_signup(ip, t0 + 600); }, 3000));
  EXPECT_NO_THROW(limits.admit_signup("203.0.113.9", t0 + 600));
}

TEST_F(login_limits_test, a_limit_of_zero_is_off_and_writes_nothing) {
  auto limits = make(none());
  for (int i = 0; i < 50; ++i) {
    const auto hits = limits.admit_login(ada, ip, t0);
    for (const auto& h : hits.hits) EXPECT_FALSE(h);
    limits.admit_signup(ip, t0);
  }
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT COUNT(*) FROM rate_limits");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int64(0), 0);
}

TEST_F(login_limits_test, stored_keys_are_keyed_hashes_without_the_email_or_ip) {
  auto limits = make({});
  (void)limits.admit_login(ada, ip, t0);
  limits.admit_signup(ip, t0);

  const std::regex hex64("[0-9a-f]{64}");
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT key FROM rate_limits");
  int seen = 0;
  while (st.step()) {
    const std::string stored = st.column_text(0);
    EXPECT_TRUE(std::regex_match(stored, hex64)) << stored;
    EXPECT_EQ(stored.find("ada"), std::string::npos);
    EXPECT_EQ(stored.find("198.51"), std::string::npos);
    ++seen;
  }
  EXPECT_EQ(seen, 5) << "four login keys and one sign-up key";

  // One value of each kind is its own key; another service key, other keys.
  EXPECT_NE(limits.key_for("login-ip", ip), limits.key_for("signup-ip", ip));
  EXPECT_NE(limits.login_key_for(key::ip_failures, ada, ip), limits.login_key_for(key::ip_logins, ada, ip));
  EXPECT_NE(limits.login_key_for(key::email_ip, ada, ip), limits.login_key_for(key::email_ip, ada, "203.0.113.9"));
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
