// sqlite_user_store against real SQLite files in a fresh directory per test.
#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "sqlite/database.hpp"
#include "sqlite/migrations.hpp"
#include "sqlite/sqlite_user_store.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::sqlite {
namespace {

namespace fs = std::filesystem;

class user_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // A nested path proves the parent directories are created.
    file_ = dir_ / "data" / "nested" / "gatehouse.db";
    open();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    store_.reset();
    db_ = std::make_shared<database>(file_);
    db_->migrate();
    store_ = std::make_unique<sqlite_user_store>(db_);
  }

  static users::user make_user(const std::string& email, const std::string& name = "Ada") {
    users::user u;
    u.user_id = crypto::uuid_v4();
    u.name = name;
    u.email = email;
    u.password_hash = "$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
    u.created_at = "2024-01-02T03:04:05.678Z";
    return u;
  }

  std::int64_t row_count() {
    auto conn = db_->acquire();
    auto st = conn->prepare("SELECT COUNT(*) FROM users");
    EXPECT_TRUE(st.step());
    return st.column_int64(0);
  }

  void expect_bad_cursor(std::string_view cursor) {
    try {
      (void)store_->list(10, cursor);
      ADD_FAILURE() << "cursor accepted: " << cursor.substr(0, 40);
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::invalid_argument);
      EXPECT_EQ(e.code(), "validation_failed");
      EXPECT_EQ(e.field(), "cursor");
    }
  }

  fs::path dir_;
  fs::path file_;
  std::shared_ptr<database> db_;
  std::unique_ptr<sqlite_user_store> store_;
};

TEST_F(user_store_test, created_user_is_found_by_id_and_by_email_with_every_field) {
  auto u = make_user("ada@example.com", "Ada Lovelace");
  u.profile_image_key = "profile-images/x/y.png";
  ASSERT_TRUE(store_->create(u));

  for (const auto& found : {store_->find_by_id(u.user_id), store_->find_by_email(u.email)}) {
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->user_id, u.user_id);
    EXPECT_EQ(found->name, "Ada Lovelace");
    EXPECT_EQ(found->email, "ada@example.com");
    EXPECT_EQ(found->password_hash, u.password_hash);
    EXPECT_EQ(found->profile_image_key, u.profile_image_key);
    EXPECT_EQ(found->created_at, "2024-01-02T03:04:05.678Z");
  }
  EXPECT_FALSE(store_->find_by_id(crypto::uuid_v4()).has_value());
  EXPECT_FALSE(store_->find_by_email("nobody@example.com").has_value());
}

TEST_F(user_store_test, missing_profile_image_reads_back_as_nullopt_not_empty) {
  const auto u = make_user("a@example.com");
  ASSERT_TRUE(store_->create(u));
  EXPECT_EQ(store_->find_by_id(u.user_id)->profile_image_key, std::nullopt);
}

TEST_F(user_store_test, sql_metacharacters_are_stored_as_plain_text) {
  const auto u = make_user("o'brien@example.com", "Robert'); DROP TABLE users;--");
  ASSERT_TRUE(store_->create(u));
  const auto found = store_->find_by_email("o'brien@example.com");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "Robert'); DROP TABLE users;--");
  EXPECT_EQ(row_count(), 1);
}

TEST_F(user_store_test, duplicate_email_returns_false_and_keeps_the_first_user) {
  const auto first = make_user("dup@example.com", "First");
  const auto second = make_user("dup@example.com", "Second");
  ASSERT_TRUE(store_->create(first));
  EXPECT_FALSE(store_->create(second));
  EXPECT_EQ(store_->find_by_email("dup@example.com")->user_id, first.user_id);
  EXPECT_FALSE(store_->find_by_id(second.user_id).has_value());
  EXPECT_EQ(row_count(), 1);
}

TEST_F(user_store_test, duplicate_user_id_is_an_internal_error_not_a_taken_email) {
  const auto first = make_user("one@example.com");
  auto second = make_user("two@example.com");
  second.user_id = first.user_id;
  ASSERT_TRUE(store_->create(first));
  try {
    (void)store_->create(second);
    FAIL() << "duplicate user_id accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::internal);
  }
  EXPECT_EQ(row_count(), 1);
}

TEST_F(user_store_test, fifty_concurrent_creates_of_one_email_give_exactly_one_true) {
  constexpr int threads = 50;
  std::atomic<int> wins{0};
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      const auto u = make_user("race@example.com", "Racer " + std::to_string(i));
      while (!go.load()) std::this_thread::yield();
      try {
        if (store_->create(u)) ++wins;
      } catch (...) {
        ++failures;
      }
    });
  }
  go = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(row_count(), 1);
}

TEST_F(user_store_test, twenty_emails_raced_by_ten_threads_each_give_twenty_rows) {
  std::atomic<int> wins{0};
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int e = 0; e < 20; ++e) {
    for (int t = 0; t < 10; ++t) {
      pool.emplace_back([&, e] {
        const auto u = make_user("user" + std::to_string(e) + "@example.com");
        while (!go.load()) std::this_thread::yield();
        try {
          if (store_->create(u)) ++wins;
        } catch (...) {
          ++failures;
        }
      });
    }
  }
  go = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wins.load(), 20);
  EXPECT_EQ(row_count(), 20);
  for (int e = 0; e < 20; ++e)
    EXPECT_TRUE(store_->find_by_email("user" + std::to_string(e) + "@example.com").has_value());
}

TEST_F(user_store_test, paging_by_two_over_seven_users_yields_each_once_in_creation_order) {
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    const auto u = make_user("p" + std::to_string(i) + "@example.com");
    ASSERT_TRUE(store_->create(u));
    created.push_back(u.user_id);
  }
  std::vector<std::string> seen;
  std::vector<std::size_t> page_sizes;
  std::optional<std::string> cursor;
  for (int guard = 0; guard < 10; ++guard) {
    const auto page =
        store_->list(2, cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
    page_sizes.push_back(page.users.size());
    for (const auto& u : page.users) seen.push_back(u.user_id);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  EXPECT_EQ(seen, created);
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 2, 1}));
}

TEST_F(user_store_test, a_page_that_ends_exactly_at_the_last_user_has_no_cursor) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->create(make_user(std::to_string(i) + "@x.io")));
  const auto first = store_->list(2, std::nullopt);
  ASSERT_TRUE(first.next_cursor.has_value());
  const auto second = store_->list(2, std::string_view(*first.next_cursor));
  EXPECT_EQ(second.users.size(), 2u);
  EXPECT_FALSE(second.next_cursor.has_value());
  const auto all = store_->list(4, std::nullopt);
  EXPECT_EQ(all.users.size(), 4u);
  EXPECT_FALSE(all.next_cursor.has_value());
}

TEST_F(user_store_test, empty_store_lists_an_empty_last_page) {
  const auto page = store_->list(25, std::nullopt);
  EXPECT_TRUE(page.users.empty());
  EXPECT_FALSE(page.next_cursor.has_value());
}

TEST_F(user_store_test, users_created_between_pages_are_not_skipped) {
  ASSERT_TRUE(store_->create(make_user("a@x.io")));
  ASSERT_TRUE(store_->create(make_user("b@x.io")));
  const auto first = store_->list(1, std::nullopt);
  ASSERT_TRUE(first.next_cursor.has_value());
  const auto late = make_user("c@x.io");
  ASSERT_TRUE(store_->create(late));
  const auto rest = store_->list(10, std::string_view(*first.next_cursor));
  ASSERT_EQ(rest.users.size(), 2u);
  EXPECT_EQ(rest.users[0].email, "b@x.io");
  EXPECT_EQ(rest.users[1].user_id, late.user_id);
}

TEST_F(user_store_test, cursor_round_trips_and_is_base64url_of_a_versioned_text) {
  EXPECT_EQ(encode_cursor(42), crypto::base64url_encode("v1:42"));
  EXPECT_EQ(decode_cursor(encode_cursor(42)), 42);
  EXPECT_EQ(decode_cursor(encode_cursor(INT64_MAX)), INT64_MAX);
}

TEST_F(user_store_test, malformed_cursors_throw_validation_failed_on_cursor) {
  using crypto::base64url_encode;
  expect_bad_cursor("");
  expect_bad_cursor("!!");
  expect_bad_cursor(base64url_encode("v2:1"));
  expect_bad_cursor(base64url_encode("v1:-1"));
  expect_bad_cursor(base64url_encode("v1:abc"));
  expect_bad_cursor(std::string(10 * 1024, 'A'));
  expect_bad_cursor(base64url_encode("v1:"));
  expect_bad_cursor(base64url_encode("v1:0"));
  expect_bad_cursor(base64url_encode("v1:007"));
  expect_bad_cursor(base64url_encode("v1:+7"));
  expect_bad_cursor(base64url_encode("v1:7 "));
  expect_bad_cursor(base64url_encode("v1:9223372036854775808"));  // INT64_MAX + 1
  expect_bad_cursor(base64url_encode(std::string("v1:1\0", 5)));
  expect_bad_cursor(base64url_encode("v1:1") + "=");  // padding is not base64url here
}

TEST_F(user_store_test, zero_limit_is_rejected_and_huge_limit_is_capped) {
  try {
    (void)store_->list(0, std::nullopt);
    FAIL() << "limit 0 accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), "validation_failed");
    EXPECT_EQ(e.field(), "limit");
  }
  ASSERT_TRUE(store_->create(make_user("a@x.io")));
  const auto page = store_->list(SIZE_MAX, std::nullopt);  // limit + 1 must not wrap
  EXPECT_EQ(page.users.size(), 1u);
  EXPECT_FALSE(page.next_cursor.has_value());
}

TEST_F(user_store_test, set_profile_image_returns_the_key_it_replaced) {
  const auto u = make_user("img@example.com");
  ASSERT_TRUE(store_->create(u));

  const auto first = store_->set_profile_image(u.user_id, "profile-images/k1.png");
  EXPECT_TRUE(first.user_found);
  EXPECT_EQ(first.previous_key, std::nullopt);

  const auto second = store_->set_profile_image(u.user_id, "profile-images/k2.jpg");
  EXPECT_TRUE(second.user_found);
  EXPECT_EQ(second.previous_key, std::optional<std::string>("profile-images/k1.png"));
  EXPECT_EQ(store_->find_by_id(u.user_id)->profile_image_key,
            std::optional<std::string>("profile-images/k2.jpg"));
}

TEST_F(user_store_test, set_profile_image_for_an_unknown_user_reports_not_found_and_writes_nothing) {
  const auto u = make_user("img@example.com");
  ASSERT_TRUE(store_->create(u));
  const auto swap = store_->set_profile_image(crypto::uuid_v4(), "profile-images/k.png");
  EXPECT_FALSE(swap.user_found);
  EXPECT_EQ(swap.previous_key, std::nullopt);
  EXPECT_EQ(store_->find_by_id(u.user_id)->profile_image_key, std::nullopt);
  // The rolled-back transaction released the write lock: writes still work.
  EXPECT_TRUE(store_->set_profile_image(u.user_id, "profile-images/k.png").user_found);
}

TEST_F(user_store_test, concurrent_image_swaps_each_learn_exactly_what_they_replaced) {
  const auto u = make_user("swap@example.com");
  ASSERT_TRUE(store_->create(u));
  constexpr int threads = 16;
  std::vector<std::optional<std::string>> previous(threads);
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      try {
        previous[i] = store_->set_profile_image(u.user_id, "key-" + std::to_string(i)).previous_key;
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : pool) t.join();
  ASSERT_EQ(failures.load(), 0);
  // The swaps form one chain: null -> k_a -> k_b -> ... -> final. Every key but
  // the final one is replaced exactly once, and null is "replaced" exactly once.
  std::multiset<std::string> replaced;
  int nulls = 0;
  for (const auto& p : previous) {
    if (p) replaced.insert(*p);
    else ++nulls;
  }
  EXPECT_EQ(nulls, 1);
  const auto final_key = *store_->find_by_id(u.user_id)->profile_image_key;
  EXPECT_EQ(replaced.count(final_key), 0u);
  EXPECT_EQ(replaced.size(), static_cast<std::size_t>(threads - 1));
  EXPECT_EQ(std::set<std::string>(replaced.begin(), replaced.end()).size(), replaced.size());
}

TEST_F(user_store_test, a_new_user_is_unverified_and_marking_needs_the_current_email) {
  const auto u = make_user("verify@example.com");
  ASSERT_TRUE(store_->create(u));
  EXPECT_FALSE(store_->find_by_id(u.user_id)->email_verified);
  EXPECT_FALSE(store_->mark_email_verified(u.user_id, "other@example.com")) << "an address the user does not have";
  EXPECT_FALSE(store_->find_by_id(u.user_id)->email_verified);
  EXPECT_TRUE(store_->mark_email_verified(u.user_id, u.email));
  EXPECT_TRUE(store_->find_by_email(u.email)->email_verified);
  EXPECT_FALSE(store_->mark_email_verified(crypto::uuid_v4(), u.email));
}

TEST_F(user_store_test, rename_sets_the_name_of_that_user_only) {
  const auto a = make_user("a@example.com", "A");
  const auto b = make_user("b@example.com", "B");
  ASSERT_TRUE(store_->create(a));
  ASSERT_TRUE(store_->create(b));
  EXPECT_TRUE(store_->rename(a.user_id, "Ada 'Robert'); DROP TABLE users;--"));
  EXPECT_EQ(store_->find_by_id(a.user_id)->name, "Ada 'Robert'); DROP TABLE users;--");
  EXPECT_EQ(store_->find_by_id(b.user_id)->name, "B");
  EXPECT_FALSE(store_->rename(crypto::uuid_v4(), "Nobody"));
}

TEST_F(user_store_test, change_email_moves_the_user_frees_the_old_address_and_refuses_a_taken_one) {
  const auto a = make_user("old@example.com");
  const auto b = make_user("taken@example.com");
  ASSERT_TRUE(store_->create(a));
  ASSERT_TRUE(store_->create(b));
  EXPECT_EQ(store_->change_email(a.user_id, "old@example.com", "taken@example.com"), users::email_change::taken);
  EXPECT_EQ(store_->find_by_id(a.user_id)->email, "old@example.com");
  EXPECT_EQ(store_->change_email(a.user_id, "wrong@example.com", "new@example.com"), users::email_change::stale);
  EXPECT_EQ(store_->change_email(a.user_id, "old@example.com", "new@example.com"), users::email_change::changed);
  const auto moved = store_->find_by_email("new@example.com");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->user_id, a.user_id);
  EXPECT_TRUE(moved->email_verified);
  EXPECT_FALSE(store_->find_by_email("old@example.com"));
  EXPECT_TRUE(store_->create(make_user("old@example.com"))) << "the old address is free again";
  EXPECT_EQ(store_->change_email(crypto::uuid_v4(), "x@example.com", "y@example.com"), users::email_change::stale);
}

TEST_F(user_store_test, two_accounts_changing_to_one_address_at_once_give_exactly_one_change) {
  constexpr int threads = 20;
  std::vector<users::user> racers;
  for (int i = 0; i < threads; ++i) {
    racers.push_back(make_user("racer" + std::to_string(i) + "@example.com"));
    ASSERT_TRUE(store_->create(racers.back()));
  }
  std::atomic<int> changed{0}, taken{0}, failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      try {
        const auto r = store_->change_email(racers[i].user_id, racers[i].email, "prize@example.com");
        if (r == users::email_change::changed) ++changed;
        if (r == users::email_change::taken) ++taken;
      } catch (...) {
        ++failures;
      }
    });
  }
  go = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(changed.load(), 1);
  EXPECT_EQ(taken.load(), threads - 1);
}

TEST_F(user_store_test, migrate_is_idempotent_and_version_counts_the_migrations) {
  EXPECT_EQ(db_->schema_version(), static_cast<int>(migrations().size()));
  ASSERT_TRUE(store_->create(make_user("keep@example.com")));
  db_->migrate();
  db_->migrate();
  EXPECT_EQ(db_->schema_version(), static_cast<int>(migrations().size()));
  EXPECT_EQ(row_count(), 1);
}

TEST_F(user_store_test, a_new_file_starts_at_version_zero) {
  database fresh(dir_ / "other.db");
  EXPECT_EQ(fresh.schema_version(), 0);
  fresh.migrate();
  EXPECT_EQ(fresh.schema_version(), static_cast<int>(migrations().size()));
}

TEST_F(user_store_test, open_returns_a_migrated_database) {
  const auto db = database::open(dir_ / "opened.db");
  EXPECT_EQ(db->schema_version(), static_cast<int>(migrations().size()));
  sqlite_user_store store(db);
  EXPECT_TRUE(store.create(make_user("opened@example.com")));
}

TEST_F(user_store_test, reopening_the_file_keeps_the_data) {
  const auto u = make_user("persist@example.com");
  ASSERT_TRUE(store_->create(u));
  ASSERT_TRUE(store_->set_profile_image(u.user_id, "profile-images/p.png").user_found);
  open();  // a new database object on the same file
  const auto found = store_->find_by_email("persist@example.com");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->user_id, u.user_id);
  EXPECT_EQ(found->profile_image_key, std::optional<std::string>("profile-images/p.png"));
  EXPECT_FALSE(store_->create(make_user("persist@example.com")));
}

TEST_F(user_store_test, connections_use_wal_and_foreign_keys) {
  auto conn = db_->acquire();
  auto mode = conn->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
  auto fk = conn->prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.column_int64(0), 1);
  auto sync = conn->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.column_int64(0), 1);  // NORMAL
}

TEST_F(user_store_test, database_file_is_private_to_its_owner) {
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(user_store_test, an_unopenable_file_throws_storage_unavailable) {
  // The parent "directory" is a regular file, so nothing can be created under it.
  const auto blocker = dir_ / "blocker";
  { std::ofstream(blocker) << "x"; }
  database broken(blocker / "gatehouse.db");
  try {
    broken.migrate();
    FAIL() << "opened a database under a regular file";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::unavailable);
    EXPECT_EQ(e.code(), "storage_unavailable");
  }
}

TEST_F(user_store_test, the_pool_never_opens_more_connections_than_its_cap) {
  database small(dir_ / "small.db", 2);
  small.migrate();
  auto a = small.acquire();
  auto b = small.acquire();
  std::atomic<bool> got_third{false};
  std::thread waiter([&] {
    auto c = small.acquire();  // waits for a or b
    got_third = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(got_third.load());
  { auto released = std::move(a); }
  waiter.join();
  EXPECT_TRUE(got_third.load());
}

TEST_F(user_store_test, a_connection_returned_mid_transaction_is_rolled_back) {
  {
    auto conn = db_->acquire();
    conn->execute_script("BEGIN IMMEDIATE");
    conn->execute_script(
        "INSERT INTO users (user_id, name, email, password_hash, created_at) "
        "VALUES ('u', 'n', 'leak@x.io', 'h', 't')");
  }  // returned to the pool without COMMIT
  EXPECT_EQ(row_count(), 0);
  EXPECT_TRUE(store_->create(make_user("after@x.io")));  // write lock not held
}

}  // namespace
}  // namespace gatehouse::sqlite
