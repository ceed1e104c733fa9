// The SQLite waits the request's deadline bounds: another writer's lock
// (the busy handler) and a pooled connection. Both would wait 5 s alone.
#include "sqlite/database.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace gatehouse::sqlite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

class database_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log::set_min_level(log::level::error); }
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-db-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

// What `work` threw, if it was the storage error a client sees as 503.
template <class Work>
bool storage_unavailable_from(Work&& work) {
  try {
    work();
  } catch (const error& e) {
    return e.kind() == error_kind::unavailable && e.code() == "storage_unavailable";
  }
  return false;
}

TEST_F(database_test, a_writer_waiting_for_the_lock_gives_up_at_the_requests_deadline) {
  const auto db = database::open(dir_ / "gatehouse.db");
  auto holder = db->acquire();
  write_transaction held(*holder);  // the write lock, kept
  auto waiter = db->acquire();

  const auto start = steady::now();
  {
    const request_deadline::scope answer_by(start + 300ms);
    EXPECT_TRUE(storage_unavailable_from([&] { write_transaction t(*waiter); }));
  }
  // Generous: 300 ms is the deadline; the busy timeout alone is 5 s.
  EXPECT_LT(steady::now() - start, 3s);

  held.commit();
  EXPECT_NO_THROW({
    write_transaction t(*waiter);
    t.commit();
  }) << "the lock is free again";
}

TEST_F(database_test, waiting_for_a_pooled_connection_gives_up_at_the_requests_deadline) {
  const auto db = database::open(dir_ / "gatehouse.db", 1);
  auto only = db->acquire();

  const auto start = steady::now();
  {
    const request_deadline::scope answer_by(start + 300ms);
    EXPECT_TRUE(storage_unavailable_from([&] { (void)db->acquire(); }));
  }
  EXPECT_LT(steady::now() - start, 3s);  // generous: 5 s without the deadline
}

TEST_F(database_test, without_a_deadline_a_writer_still_waits_for_a_lock_released_soon) {
  const auto db = database::open(dir_ / "gatehouse.db");
  auto holder = db->acquire();
  auto held = std::make_unique<write_transaction>(*holder);
  std::thread release([&] {
    std::this_thread::sleep_for(200ms);
    held->commit();
  });
  auto waiter = db->acquire();
  EXPECT_NO_THROW({
    write_transaction t(*waiter);
    t.commit();
  });
  release.join();
}

}  // namespace
}  // namespace gatehouse::sqlite
