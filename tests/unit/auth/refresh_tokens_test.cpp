// The refresh-token rules (auth/refresh_tokens) on the real embedded store
// (sqlite_token_store over a SQLite file in a fresh directory per test),
// with the clock in the test's hand.
#include "auth/refresh_tokens.hpp"
#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_token_store.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::auth {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t start_time = 1'800'000'000;
constexpr std::int64_t ttl = 30 * 86400;
constexpr std::int64_t grace = 10;
const std::string key(32, 'k');
const std::string user_id = "7f0c2a44-5b1e-4c7d-9a0b-3c2d1e0f9a8b";

// Passes only for invalid_refresh_token: 401 with that code.
template <class F>
::testing::AssertionResult rejected(F&& call) {
  try {
    call();
  } catch (const error& e) {
    if (e.kind() == error_kind::unauthenticated && e.code() == "invalid_refresh_token")
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "threw " << e.code() << ": " << e.what();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-gatehouse exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "accepted";
}

class refresh_tokens_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-refresh-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = sqlite::database::open(dir_ / "gatehouse.db");
    store_ = std::make_unique<sqlite::sqlite_token_store>(db_);
    service_ = make_service(grace);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<refresh_token_service> make_service(std::int64_t grace_seconds,
                                                      const std::string& with_key = key) {
    return make_service(refresh_settings{ttl, grace_seconds}, with_key, *store_);
  }
  std::unique_ptr<refresh_token_service> make_service(const refresh_settings& settings,
                                                      const std::string& with_key, refresh_token_store& store) {
    return std::make_unique<refresh_token_service>(store, with_key, settings, [this] {
      return std::chrono::seconds(now_.load()) + std::chrono::milliseconds(ms_.load());
    });
  }
  std::unique_ptr<refresh_token_service> make_service(const refresh_settings& settings) {
    return make_service(settings, key, *store_);
  }

  // A refresh whose user exists.
  std::string refresh(const std::string& token, refresh_token_service* service = nullptr) {
    return (service ? service : service_.get())->refresh(token, [](const std::string&) { return true; }).token;
  }

  bool family_revoked(const std::string& family_id) {
    const auto f = store_->find_family(family_id);
    return !f || f->revoked_at.has_value();
  }

  std::int64_t count(const std::string& sql) {
    auto conn = db_->acquire();
    auto st = conn->prepare(sql);
    EXPECT_TRUE(st.step());
    return st.column_int64(0);
  }

  std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
  std::atomic<std::int64_t> now_{start_time};
  std::atomic<std::int64_t> ms_{0};  // milliseconds within now_'s second
  std::shared_ptr<sqlite::database> db_;
  std::unique_ptr<sqlite::sqlite_token_store> store_;
  std::unique_ptr<refresh_token_service> service_;
};

TEST_F(refresh_tokens_test, login_token_is_43_base64url_chars_and_stored_only_as_its_sha256) {
  const auto issued = service_->issue(user_id);
  EXPECT_TRUE(std::regex_match(issued.token, std::regex("[A-Za-z0-9_-]{43}"))) << issued.token;
  EXPECT_EQ(crypto::base64url_decode(issued.token).value_or("").size(), 32u);
  EXPECT_EQ(issued.user_id, user_id);

  const auto record = store_->find_token(crypto::to_hex(crypto::sha256(issued.token)));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->family_id, issued.family_id);
  EXPECT_EQ(record->user_id, user_id);
  EXPECT_EQ(record->expires_at, start_time + ttl);
  EXPECT_EQ(record->used_at, std::nullopt);
  EXPECT_EQ(record->successor_hash, std::nullopt);
  const auto family = store_->find_family(issued.family_id);
  ASSERT_TRUE(family.has_value());
  EXPECT_EQ(family->user_id, user_id);
  EXPECT_EQ(family->created_at, start_time);
  EXPECT_EQ(family->revoked_at, std::nullopt);

  // Nowhere on disk in plaintext: not in the database, not in its journal.
  const auto successor = refresh(issued.token);
  for (const char* name : {"gatehouse.db", "gatehouse.db-wal"}) {
    const std::string bytes = file_bytes(dir_ / name);
    EXPECT_EQ(bytes.find(issued.token), std::string::npos) << name;
    EXPECT_EQ(bytes.find(successor), std::string::npos) << name;
  }
}

TEST_F(refresh_tokens_test, each_login_starts_its_own_family) {
  const auto a = service_->issue(user_id);
  const auto b = service_->issue(user_id);
  EXPECT_NE(a.token, b.token);
  EXPECT_NE(a.family_id, b.family_id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM token_families"), 2);
}

TEST_F(refresh_tokens_test, successor_is_the_hmac_of_the_presented_token_under_the_key) {
  const auto issued = service_->issue(user_id);
  const std::string expected =
      crypto::base64url_encode(crypto::as_bytes(crypto::hmac_sha256(key, "successor\n" + issued.token)));
  EXPECT_EQ(service_->successor_of(issued.token), expected);
  EXPECT_EQ(expected.size(), refresh_token_chars);
  EXPECT_EQ(refresh(issued.token), expected);
}

TEST_F(refresh_tokens_test, rotation_hands_out_a_fresh_token_and_the_old_one_works_no_more_after_the_grace) {
  const auto issued = service_->issue(user_id);
  now_ += 60;
  const auto next = service_->refresh(issued.token, [](const std::string& id) { return id == user_id; });
  EXPECT_NE(next.token, issued.token);
  EXPECT_EQ(next.user_id, user_id);
  EXPECT_EQ(next.family_id, issued.family_id);

  const auto used = store_->find_token(hash_refresh_token(issued.token));
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->used_at, start_time + 60);
  EXPECT_EQ(used->successor_hash, hash_refresh_token(next.token));
  const auto successor = store_->find_token(hash_refresh_token(next.token));
  ASSERT_TRUE(successor.has_value());
  EXPECT_EQ(successor->expires_at, start_time + 60 + ttl) << "a fresh lifetime from the refresh";
  EXPECT_EQ(successor->family_id, issued.family_id);

  // The successor rotates in its turn.
  now_ += 60;
  const auto third = refresh(next.token);
  EXPECT_NE(third, next.token);
  EXPECT_NE(third, issued.token);

  now_ += grace;
  EXPECT_TRUE(rejected([&] { refresh(issued.token); }));
}

TEST_F(refresh_tokens_test, reuse_after_the_grace_revokes_the_whole_family) {
  const auto issued = service_->issue(user_id);
  const auto other_login = service_->issue(user_id);
  const auto next = refresh(issued.token);
  now_ += grace;  // the window is [used_at, used_at + grace)

  EXPECT_TRUE(rejected([&] { refresh(issued.token); }));
  const auto family = store_->find_family(issued.family_id);
  ASSERT_TRUE(family.has_value());
  EXPECT_EQ(family->revoked_at, start_time + grace);
  // The successor, never used, is dead too, and stays dead.
  EXPECT_TRUE(rejected([&] { refresh(next); }));
  now_ += 3600;
  EXPECT_TRUE(rejected([&] { refresh(next); }));
  EXPECT_EQ(store_->find_family(issued.family_id)->revoked_at, start_time + grace) << "first revocation time kept";
  // Another login of the same user is another family: untouched.
  EXPECT_FALSE(family_revoked(other_login.family_id));
  EXPECT_NO_THROW(refresh(other_login.token));
}

TEST_F(refresh_tokens_test, within_the_grace_a_used_token_returns_the_same_successor) {
  const auto issued = service_->issue(user_id);
  const auto first = refresh(issued.token);
  now_ += grace - 1;
  EXPECT_EQ(refresh(issued.token), first);
  EXPECT_EQ(refresh(issued.token), first);
  EXPECT_FALSE(family_revoked(issued.family_id));
  EXPECT_EQ(count("SELECT COUNT(*) FROM refresh_tokens"), 2) << "one successor, not one per request";
  // The grace counts from the first use, not from the repeats.
  now_ += 1;
  EXPECT_TRUE(rejected([&] { refresh(issued.token); }));
  EXPECT_TRUE(family_revoked(issued.family_id));
}

TEST_F(refresh_tokens_test, grace_path_stores_the_successor_when_the_winner_did_not) {
  const auto issued = service_->issue(user_id);
  const std::string successor = service_->successor_of(issued.token);
  // As if the rotating request had died between its mark and its insert
  // (DynamoDB has no transaction): the mark is there, the successor not.
  {
    auto conn = db_->acquire();
    auto st = conn->prepare("UPDATE refresh_tokens SET used_at = ?, successor_hash = ? WHERE token_hash = ?");
    st.bind(1, start_time).bind(2, hash_refresh_token(successor)).bind(3, hash_refresh_token(issued.token));
    st.step();
  }
  ASSERT_FALSE(store_->find_token(hash_refresh_token(successor)).has_value());
  now_ += 1;
  EXPECT_EQ(refresh(issued.token), successor);
  const auto stored = store_->find_token(hash_refresh_token(successor));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->family_id, issued.family_id);
  EXPECT_EQ(stored->expires_at, start_time + 1 + ttl);
  EXPECT_NO_THROW(refresh(successor));
}

TEST_F(refresh_tokens_test, zero_grace_treats_any_second_use_as_reuse) {
  const auto strict = make_service(0);
  const auto issued = strict->issue(user_id);
  const auto next = refresh(issued.token, strict.get());
  EXPECT_TRUE(rejected([&] { refresh(issued.token, strict.get()); }));
  EXPECT_TRUE(family_revoked(issued.family_id));
  EXPECT_TRUE(rejected([&] { refresh(next, strict.get()); }));
}

TEST_F(refresh_tokens_test, a_used_token_made_under_another_key_gets_no_grace) {
  const auto issued = service_->issue(user_id);
  (void)refresh(issued.token);
  // The JWT secret changed: successors differ, so the stored mark does not
  // match and there is nothing to hand out again.
  const auto rekeyed = make_service(grace, std::string(32, 'x'));
  EXPECT_TRUE(rejected([&] { refresh(issued.token, rekeyed.get()); }));
  EXPECT_TRUE(family_revoked(issued.family_id));
}

TEST_F(refresh_tokens_test, expired_token_is_refused_without_revoking_anything) {
  const auto issued = service_->issue(user_id);
  now_ += ttl - 1;
  const auto next = refresh(issued.token);  // the last second of its life
  const auto other = service_->issue(user_id);
  now_ = start_time + ttl - 1 + ttl;  // `next` expires now
  EXPECT_TRUE(rejected([&] { refresh(next); }));
  EXPECT_FALSE(family_revoked(issued.family_id)) << "expiry is not reuse";
  EXPECT_TRUE(store_->find_token(hash_refresh_token(next)).has_value()) << "refused on read, still stored";
  EXPECT_TRUE(rejected([&] { refresh(other.token); }));
}

TEST_F(refresh_tokens_test, expired_families_and_tokens_are_purged_by_later_writes) {
  const auto old = service_->issue(user_id);
  const auto old_next = refresh(old.token);
  const auto live = service_->issue(user_id);
  (void)live;
  ASSERT_EQ(count("SELECT COUNT(*) FROM refresh_tokens"), 3);
  now_ += ttl + 1;
  const auto fresh = service_->issue(user_id);
  EXPECT_FALSE(store_->find_family(old.family_id).has_value());
  EXPECT_FALSE(store_->find_token(hash_refresh_token(old.token)).has_value());
  EXPECT_FALSE(store_->find_token(hash_refresh_token(old_next)).has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM refresh_tokens"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM token_families"), 1);
  EXPECT_TRUE(rejected([&] { refresh(old_next); }));
  EXPECT_NO_THROW(refresh(fresh.token));
}

TEST_F(refresh_tokens_test, family_lives_as_long_as_its_newest_token) {
  const auto issued = service_->issue(user_id);
  now_ += 86400;
  (void)refresh(issued.token);
  EXPECT_EQ(store_->find_family(issued.family_id)->expires_at, start_time + 86400 + ttl);
}

TEST_F(refresh_tokens_test, logout_revokes_the_family_of_a_live_used_or_unused_token) {
  const auto a = service_->issue(user_id);
  const auto a_next = refresh(a.token);
  service_->revoke(a_next);
  EXPECT_TRUE(family_revoked(a.family_id));
  EXPECT_TRUE(rejected([&] { refresh(a_next); }));
  EXPECT_TRUE(rejected([&] { refresh(a.token); })) << "not even within the grace";

  // From another tab that still holds the rotated token.
  const auto b = service_->issue(user_id);
  const auto b_next = refresh(b.token);
  service_->revoke(b.token);
  EXPECT_TRUE(family_revoked(b.family_id));
  EXPECT_TRUE(rejected([&] { refresh(b_next); }));

  // Twice is harmless; the first time stays.
  now_ += 5;
  service_->revoke(b.token);
  EXPECT_EQ(store_->find_family(b.family_id)->revoked_at, start_time);
}

TEST_F(refresh_tokens_test, logout_with_unknown_malformed_or_expired_tokens_changes_nothing) {
  const auto issued = service_->issue(user_id);
  for (const std::string& t : {std::string(), std::string("short"), std::string(43, 'A'), std::string(44, 'A'),
                               issued.token + "x", std::string(43, '=')})
    EXPECT_NO_THROW(service_->revoke(t)) << t;
  EXPECT_FALSE(family_revoked(issued.family_id));
  now_ += ttl;
  service_->revoke(issued.token);
  EXPECT_FALSE(store_->find_family(issued.family_id)->revoked_at.has_value());
}

TEST_F(refresh_tokens_test, malformed_and_unknown_tokens_are_refused) {
  const auto issued = service_->issue(user_id);
  std::string plus = issued.token;
  plus[0] = '+';
  std::string nul = issued.token;
  nul[5] = '\0';
  for (const std::string& t : {std::string(), issued.token.substr(1), issued.token + "A", plus, nul,
                               std::string(43, 'A'), std::string(100000, 'A')})
    EXPECT_TRUE(rejected([&] { refresh(t); })) << t.substr(0, 50);
  EXPECT_FALSE(family_revoked(issued.family_id));
  EXPECT_NO_THROW(refresh(issued.token));
}

TEST_F(refresh_tokens_test, a_token_whose_user_is_gone_is_refused_and_its_family_revoked) {
  const auto issued = service_->issue(user_id);
  std::string asked;
  EXPECT_TRUE(rejected([&] {
    service_->refresh(issued.token, [&](const std::string& id) {
      asked = id;
      return false;
    });
  }));
  EXPECT_EQ(asked, user_id);
  EXPECT_TRUE(family_revoked(issued.family_id));
  EXPECT_FALSE(store_->find_token(hash_refresh_token(issued.token))->used_at.has_value()) << "nothing rotated";
  EXPECT_TRUE(rejected([&] { refresh(issued.token); }));
}

TEST_F(refresh_tokens_test, key_shorter_than_32_bytes_is_refused) {
  EXPECT_THROW(make_service(grace, std::string(31, 'k')), std::invalid_argument);
}

// Runs refresh(token) on `threads` threads released together; returns each
// outcome: the successor, or "401".
std::vector<std::string> refresh_all_at_once(refresh_token_service& service, const std::string& token, int threads) {
  std::vector<std::string> out(static_cast<std::size_t>(threads));
  std::latch go(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      go.arrive_and_wait();
      try {
        out[static_cast<std::size_t>(i)] = service.refresh(token, [](const std::string&) { return true; }).token;
      } catch (const error& e) {
        out[static_cast<std::size_t>(i)] = e.code() == "invalid_refresh_token" ? "401" : "error: " + e.code();
      } catch (const std::exception& e) {
        out[static_cast<std::size_t>(i)] = std::string("exception: ") + e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
  return out;
}

TEST_F(refresh_tokens_test, twenty_concurrent_refreshes_of_one_token_all_get_the_same_successor) {
  const auto issued = service_->issue(user_id);
  const auto outcomes = refresh_all_at_once(*service_, issued.token, 20);
  std::set<std::string> successors;
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.size(), refresh_token_chars) << o;  // within the grace: never a 401
    successors.insert(o);
  }
  ASSERT_EQ(successors.size(), 1u);
  EXPECT_EQ(*successors.begin(), service_->successor_of(issued.token));
  EXPECT_EQ(count("SELECT COUNT(*) FROM refresh_tokens"), 2);
  EXPECT_FALSE(family_revoked(issued.family_id));
  EXPECT_NO_THROW(refresh(*successors.begin()));
}

TEST_F(refresh_tokens_test, without_a_grace_exactly_one_of_twenty_concurrent_refreshes_wins) {
  const auto strict = make_service(0);
  const auto issued = strict->issue(user_id);
  const auto outcomes = refresh_all_at_once(*strict, issued.token, 20);
  int won = 0, refused = 0;
  for (const auto& o : outcomes) {
    if (o == "401") {
      ++refused;
    } else {
      ++won;
      EXPECT_EQ(o, strict->successor_of(issued.token));
    }
  }
  EXPECT_EQ(won, 1) << "the conditional mark lets one request rotate";
  EXPECT_EQ(refused, 19);
  EXPECT_TRUE(family_revoked(issued.family_id)) << "the others were reuse";
}

// ---- SESSION_MAX_AGE --------------------------------------------------------

TEST_F(refresh_tokens_test, a_session_ends_at_its_max_age_however_often_it_is_refreshed) {
  const auto service = make_service(refresh_settings{ttl, grace, 100, 50});
  const auto issued = service->issue(user_id);
  const auto first = store_->find_token(hash_refresh_token(issued.token));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->expires_at, start_time + 100) << "no token outlives its session";

  std::string token = issued.token;
  for (int i = 0; i < 3; ++i) {
    now_ += 30;  // t0 + 30, 60, 90
    token = refresh(token, service.get());
    const auto record = store_->find_token(hash_refresh_token(token));
    ASSERT_TRUE(record);
    EXPECT_EQ(record->expires_at, start_time + 100) << i;
  }
  now_ = start_time + 100;
  EXPECT_TRUE(rejected([&] { (void)refresh(token, service.get()); }));
}

TEST_F(refresh_tokens_test, at_its_max_age_a_session_ends_although_its_token_is_fresh) {
  const auto issued = service_->issue(user_id);  // the default: 90 days
  now_ += 60;
  const auto token = refresh(issued.token);
  ASSERT_EQ(store_->find_token(hash_refresh_token(token))->expires_at, start_time + 60 + ttl);
  // SESSION_MAX_AGE lowered to 2 minutes (a restart with another setting).
  const auto lowered = make_service(refresh_settings{ttl, grace, 120, 50});
  now_ = start_time + 120;
  EXPECT_TRUE(rejected([&] { (void)refresh(token, lowered.get()); }));
  EXPECT_FALSE(family_revoked(issued.family_id)) << "ended, not revoked: nothing is written";
  EXPECT_NO_THROW((void)refresh(token)) << "under the 90-day setting it is live";
}

TEST_F(refresh_tokens_test, max_age_and_the_cap_must_be_positive) {
  EXPECT_THROW(make_service(refresh_settings{ttl, grace, 0, 50}), std::invalid_argument);
  EXPECT_THROW(make_service(refresh_settings{ttl, grace, 100, 0}), std::invalid_argument);
}

// ---- MAX_SESSIONS_PER_USER --------------------------------------------------

TEST_F(refresh_tokens_test, six_logins_with_a_cap_of_three_leave_the_three_newest_sessions) {
  const auto service = make_service(refresh_settings{ttl, grace, 90 * 86400, 3});
  std::vector<issued_refresh_token> logins;
  for (int i = 0; i < 6; ++i) {
    logins.push_back(service->issue(user_id));
    now_ += 1;
  }
  const auto other_user = service->issue("another-user");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(family_revoked(logins[i].family_id)) << i;
    EXPECT_TRUE(rejected([&] { (void)refresh(logins[i].token, service.get()); })) << i;
  }
  for (int i = 3; i < 6; ++i) EXPECT_NO_THROW((void)refresh(logins[i].token, service.get())) << i;
  const auto live = service->live_sessions(user_id);
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[0].family_id, logins[5].family_id) << "newest first";
  EXPECT_EQ(live[2].family_id, logins[3].family_id);
  EXPECT_FALSE(family_revoked(other_user.family_id)) << "another user's sessions are their own";
}

TEST_F(refresh_tokens_test, logins_within_one_second_are_ordered_by_their_milliseconds) {
  const auto service = make_service(refresh_settings{ttl, grace, 90 * 86400, 2});
  std::vector<issued_refresh_token> logins;
  for (int i = 0; i < 4; ++i) {
    ms_ = 100 * (i + 1);
    logins.push_back(service->issue(user_id));
  }
  EXPECT_TRUE(family_revoked(logins[0].family_id));
  EXPECT_TRUE(family_revoked(logins[1].family_id));
  EXPECT_FALSE(family_revoked(logins[2].family_id));
  EXPECT_FALSE(family_revoked(logins[3].family_id));
}

TEST_F(refresh_tokens_test, sessions_that_ended_do_not_take_a_place_under_the_cap) {
  const auto service = make_service(refresh_settings{ttl, grace, 90 * 86400, 2});
  const auto oldest = service->issue(user_id);
  now_ += 1;
  const auto logged_out = service->issue(user_id);
  service->revoke(logged_out.token);
  now_ += 1;
  const auto newest = service->issue(user_id);
  EXPECT_FALSE(family_revoked(oldest.family_id)) << "two live sessions: the cap is not exceeded";
  EXPECT_EQ(service->live_sessions(user_id).size(), 2u);
  (void)newest;
}

// The embedded store whose list_families fails, as a backend outage would.
class failing_list_store final : public refresh_token_store {
 public:
  explicit failing_list_store(refresh_token_store& inner) : inner_(inner) {}
  void create_family(const token_family& f, const refresh_token_record& r) override { inner_.create_family(f, r); }
  std::optional<refresh_token_record> find_token(std::string_view h) override { return inner_.find_token(h); }
  std::optional<token_family> find_family(std::string_view id) override { return inner_.find_family(id); }
  bool rotate(std::string_view h, std::int64_t at, const refresh_token_record& s) override {
    return inner_.rotate(h, at, s);
  }
  void put_token_if_absent(const refresh_token_record& r) override { inner_.put_token_if_absent(r); }
  void revoke_family(std::string_view id, std::int64_t at) override { inner_.revoke_family(id, at); }
  std::vector<token_family> list_families(std::string_view) override {
    throw storage_unavailable("the index is unreachable");
  }

 private:
  refresh_token_store& inner_;
};

TEST_F(refresh_tokens_test, a_failure_while_trimming_sessions_does_not_fail_the_login) {
  failing_list_store failing(*store_);
  const auto service = make_service(refresh_settings{ttl, grace, 90 * 86400, 1}, key, failing);
  const auto first = service->issue(user_id);
  const auto second = service->issue(user_id);
  EXPECT_NO_THROW((void)refresh(second.token, service.get())) << "the session was made: the login stands";
  EXPECT_FALSE(family_revoked(first.family_id));
  // The next login on a working store trims.
  now_ += 1;
  const auto working = make_service(refresh_settings{ttl, grace, 90 * 86400, 1});
  (void)working->issue(user_id);
  EXPECT_TRUE(family_revoked(first.family_id));
  EXPECT_TRUE(family_revoked(second.family_id));
}

TEST_F(refresh_tokens_test, after_a_burst_of_parallel_logins_one_more_leaves_at_most_the_cap) {
  const auto service = make_service(refresh_settings{ttl, grace, 90 * 86400, 3});
  constexpr int burst = 16;
  std::latch go(burst);
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int i = 0; i < burst; ++i)
    pool.emplace_back([&] {
      go.arrive_and_wait();
      try {
        (void)service->issue(user_id);
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& t : pool) t.join();
  ASSERT_EQ(failures.load(), 0);
  now_ += 1;
  const auto last = service->issue(user_id);
  const auto live = service->live_sessions(user_id);
  EXPECT_LE(live.size(), 3u);
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(live.front().family_id, last.family_id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM token_families WHERE revoked_at IS NULL"), static_cast<std::int64_t>(live.size()));
}

}  // namespace
}  // namespace gatehouse::auth
