// sqlite_rate_limiter (and the fixed-window arithmetic of
// auth/rate_limiter.hpp) on a real SQLite file in a fresh directory per
// test, with the clock in the test's hand.
#include "auth/rate_limiter.hpp"
#include "sqlite/database.hpp"
#include "sqlite/migrations.hpp"
#include "sqlite/sqlite_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::sqlite {
namespace {

namespace fs = std::filesystem;
using auth::rate_limit;

// A multiple of every window used below, so windows start exactly here.
constexpr std::int64_t t0 = 1'800'000'000;
static_assert(t0 % 3600 == 0);

const std::string key_a(64, 'a');
const std::string key_b(64, 'b');

class rate_limiter_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-limits-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = database::open(dir_ / "gatehouse.db");
    limiter_ = std::make_unique<sqlite_rate_limiter>(db_);
  }
  void TearDown() override {
    limiter_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::int64_t rows() {
    auto conn = db_->acquire();
    auto st = conn->prepare("SELECT COUNT(*) FROM rate_limits");
    EXPECT_TRUE(st.step());
    return st.column_int64(0);
  }

  fs::path dir_;
  std::shared_ptr<database> db_;
  std::unique_ptr<sqlite_rate_limiter> limiter_;
};

TEST(fixed_windows, start_at_multiples_of_their_length) {
  EXPECT_EQ(auth::window_start_of(t0, 900), t0);
  EXPECT_EQ(auth::window_start_of(t0 + 899, 900), t0);
  EXPECT_EQ(auth::window_start_of(t0 + 900, 900), t0 + 900);
  EXPECT_EQ(auth::window_start_of(t0 + 59, 60), t0);
  EXPECT_EQ(auth::window_start_of(7, 2), 6);
  EXPECT_EQ(auth::window_start_of(-1, 60), -60) << "floor, not truncation";
  EXPECT_EQ(auth::window_start_of(-60, 60), -60);
}

TEST(fixed_windows, judge_allows_up_to_the_limit_and_counts_seconds_to_the_window_end) {
  const rate_limit limit{3, 60};
  EXPECT_TRUE(auth::judge(3, limit, t0, t0 + 10).allowed);
  const auto refused = auth::judge(4, limit, t0, t0 + 10);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.count, 4);
  EXPECT_EQ(refused.window_start, t0);
  EXPECT_EQ(refused.retry_after, 50);
  EXPECT_EQ(auth::judge(4, limit, t0, t0 + 59).retry_after, 1);
  EXPECT_EQ(auth::judge(4, limit, t0, t0 + 60).retry_after, 1) << "never 0: the client must wait";
}

TEST(fixed_windows, a_limit_of_zero_is_off) {
  EXPECT_FALSE((rate_limit{0, 900}).enabled());
  EXPECT_FALSE((rate_limit{}).enabled());
  EXPECT_TRUE((rate_limit{5, 900}).enabled());
}

TEST_F(rate_limiter_test, migration_three_creates_the_counters_table) {
  EXPECT_EQ(db_->schema_version(), static_cast<int>(migrations().size()));
  EXPECT_GE(migrations().size(), 3u);
  EXPECT_EQ(rows(), 0);
}

TEST_F(rate_limiter_test, counts_hits_in_one_window_and_refuses_past_the_limit) {
  const rate_limit limit{3, 60};
  for (int i = 1; i <= 3; ++i) {
    const auto r = limiter_->hit(key_a, limit, t0 + 10 * i);
    EXPECT_TRUE(r.allowed) << i;
    EXPECT_EQ(r.count, i);
    EXPECT_EQ(r.window_start, t0);
    EXPECT_EQ(r.retry_after, 60 - 10 * i);
  }
  const auto refused = limiter_->hit(key_a, limit, t0 + 45);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.count, 4) << "a refused hit is counted too";
  EXPECT_EQ(refused.retry_after, 15);
  EXPECT_FALSE(limiter_->hit(key_a, limit, t0 + 59).allowed);
}

TEST_F(rate_limiter_test, keys_are_counted_apart) {
  const rate_limit limit{1, 60};
  EXPECT_TRUE(limiter_->hit(key_a, limit, t0).allowed);
  EXPECT_TRUE(limiter_->hit(key_b, limit, t0).allowed);
  EXPECT_FALSE(limiter_->hit(key_a, limit, t0 + 1).allowed);
  EXPECT_FALSE(limiter_->hit(key_b, limit, t0 + 1).allowed);
}

TEST_F(rate_limiter_test, the_next_window_starts_from_zero) {
  const rate_limit limit{2, 60};
  limiter_->hit(key_a, limit, t0);
  limiter_->hit(key_a, limit, t0 + 30);
  EXPECT_FALSE(limiter_->hit(key_a, limit, t0 + 59).allowed);
  const auto next = limiter_->hit(key_a, limit, t0 + 60);
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.count, 1);
  EXPECT_EQ(next.window_start, t0 + 60);
  EXPECT_EQ(next.retry_after, 60);
}

TEST_F(rate_limiter_test, undo_gives_back_one_hit_never_below_zero) {
  const rate_limit limit{2, 60};
  limiter_->hit(key_a, limit, t0);
  const auto second = limiter_->hit(key_a, limit, t0 + 1);
  limiter_->undo(key_a, second.window_start);
  EXPECT_EQ(limiter_->hit(key_a, limit, t0 + 2).count, 2);

  limiter_->undo(key_a, t0);
  limiter_->undo(key_a, t0);
  limiter_->undo(key_a, t0);  // already at zero: stays there
  EXPECT_EQ(limiter_->hit(key_a, limit, t0 + 3).count, 1);

  limiter_->undo(key_b, t0);  // an unknown key: nothing, and no row
  EXPECT_EQ(rows(), 1);
}

TEST_F(rate_limiter_test, reset_forgets_one_key_in_one_window) {
  const rate_limit limit{2, 60};
  for (int i = 0; i < 3; ++i) limiter_->hit(key_a, limit, t0 + i);
  limiter_->hit(key_b, limit, t0);
  limiter_->reset(key_a, t0);
  EXPECT_EQ(limiter_->hit(key_a, limit, t0 + 5).count, 1);
  EXPECT_EQ(limiter_->hit(key_b, limit, t0 + 5).count, 2) << "another key keeps its count";
  limiter_->reset(key_b, t0 + 60);  // another window: nothing
  EXPECT_EQ(limiter_->hit(key_b, limit, t0 + 6).count, 3);
}

TEST_F(rate_limiter_test, hits_purge_rows_of_ended_windows_a_batch_at_a_time) {
  const rate_limit short_window{5, 60};
  const rate_limit long_window{5, 3600};
  for (int i = 0; i < 40; ++i) limiter_->hit("old-" + std::to_string(i), short_window, t0);
  limiter_->hit(key_b, long_window, t0);
  EXPECT_EQ(rows(), 41);

  // At t0 + 60 the short windows have ended; the long one has not.
  limiter_->hit(key_a, short_window, t0 + 60);
  EXPECT_EQ(rows(), 41 + 1 - sqlite_rate_limiter::purge_batch);
  limiter_->hit(key_a, short_window, t0 + 61);
  EXPECT_EQ(rows(), 2) << "the long window and the current one are left";
  EXPECT_EQ(limiter_->hit(key_b, long_window, t0 + 61).count, 2);
}

TEST_F(rate_limiter_test, sixteen_threads_hitting_one_key_get_exactly_the_limit_allowed) {
  constexpr int threads = 16;
  constexpr int hits_each = 10;
  const rate_limit limit{37, 3600};
  std::atomic<int> allowed{0};
  std::mutex mutex;
  std::vector<std::int64_t> counts;
  std::latch start(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < hits_each; ++i) {
        const auto r = limiter_->hit(key_a, limit, t0 + 10);
        if (r.allowed) ++allowed;
        std::lock_guard lock(mutex);
        counts.push_back(r.count);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(allowed.load(), 37);
  // Every hit saw a count of its own: 1..160, each once.
  std::sort(counts.begin(), counts.end());
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(threads * hits_each));
  for (std::size_t i = 0; i < counts.size(); ++i) EXPECT_EQ(counts[i], static_cast<std::int64_t>(i + 1));
}

TEST_F(rate_limiter_test, two_databases_on_one_file_share_the_counts) {
  // Two pools on one file, as two server processes have: the count is the file's.
  auto other_db = database::open(dir_ / "gatehouse.db");
  sqlite_rate_limiter other(other_db);
  const rate_limit limit{20, 3600};
  std::atomic<int> allowed{0};
  std::latch start(8);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      auto& limiter = t % 2 == 0 ? static_cast<auth::rate_limiter&>(*limiter_) : other;
      for (int i = 0; i < 5; ++i)
        if (limiter.hit(key_a, limit, t0).allowed) ++allowed;
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(allowed.load(), 20);
  EXPECT_EQ(other.hit(key_a, limit, t0).count, 41);
}

}  // namespace
}  // namespace gatehouse::sqlite
