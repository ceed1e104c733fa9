// The bcrypt gate: at most K running, at most D waiting, and exactly the
// callers beyond that refused at once with 503 server_busy + Retry-After.
#include "auth/bcrypt_gate.hpp"
#include "auth/password.hpp"

#include "base/error.hpp"
#include "base/request_deadline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gatehouse::auth {
namespace {

using namespace std::chrono_literals;

// Work that blocks until opened, so a test decides when turns end.
class latch_gate_work {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    opened_cv_.wait(lock, [this] { return opened_; });
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      opened_ = true;
    }
    opened_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_cv_;
  bool opened_ = false;
};

// Polls until `done` or 10 s pass (a bound against hangs, never a speed check).
template <typename Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(bcrypt_gate, runs_k_at_once_queues_d_and_refuses_exactly_the_excess) {
  constexpr std::size_t k = 2, d = 3, callers = 12;
  bcrypt_gate gate(k, d);
  latch_gate_work work;
  std::atomic<int> ran{0}, refused{0}, max_running{0}, running{0}, other_errors{0};

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < callers; ++i)
    threads.emplace_back([&] {
      try {
        gate.run([&] {
          const int now = ++running;
          int seen = max_running.load();
          while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
          }
          work.wait();
          --running;
          ++ran;
        });
      } catch (const error& e) {
        if (e.kind() == error_kind::unavailable && e.code() == "server_busy") ++refused;
        else ++other_errors;
      }
    });

  // Everyone has either a turn, a place in the queue, or a refusal.
  ASSERT_TRUE(eventually([&] { return refused.load() == static_cast<int>(callers - k - d); }))
      << "refused " << refused.load();
  ASSERT_TRUE(eventually([&] { return gate.running() == k && gate.waiting() == d; }))
      << gate.running() << " running, " << gate.waiting() << " waiting";
  EXPECT_EQ(ran.load(), 0);

  work.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran.load(), static_cast<int>(k + d)) << "every queued caller got its turn";
  EXPECT_EQ(refused.load(), static_cast<int>(callers - k - d));
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_LE(max_running.load(), static_cast<int>(k));
  EXPECT_EQ(gate.running(), 0u);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(bcrypt_gate, a_refusal_is_503_server_busy_with_retry_after) {
  bcrypt_gate gate(1, 0);
  latch_gate_work work;
  std::thread holder([&] { gate.run([&] { work.wait(); }); });
  ASSERT_TRUE(eventually([&] { return gate.running() == 1; }));
  bool called = false;
  try {
    gate.run([&] { called = true; });
    ADD_FAILURE() << "a full gate admitted a caller";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::unavailable);
    EXPECT_EQ(e.code(), "server_busy");
    ASSERT_EQ(e.headers().size(), 1u);
    EXPECT_EQ(e.headers()[0].first, "retry-after");
    EXPECT_EQ(e.headers()[0].second, "1");
  }
  EXPECT_FALSE(called) << "refused before any work";
  work.open();
  holder.join();
  EXPECT_EQ(gate.run([] { return 7; }), 7) << "free again once the turn ended";
}

bool refused_busy(bcrypt_gate& gate, bool& called) {
  try {
    gate.run([&] { called = true; });
  } catch (const error& e) {
    return e.kind() == error_kind::unavailable && e.code() == "server_busy";
  }
  return false;
}

TEST(bcrypt_gate, a_waiter_whose_request_runs_out_of_time_leaves_the_queue_with_server_busy) {
  bcrypt_gate gate(1, 4);
  latch_gate_work work;
  std::thread holder([&] { gate.run([&] { work.wait(); }); });
  ASSERT_TRUE(eventually([&] { return gate.running() == 1; }));
  bool called = false;
  {
    // The turn never comes before this deadline: the holder waits for the latch.
    const request_deadline::scope answer_by(std::chrono::steady_clock::now() + 200ms);
    EXPECT_TRUE(refused_busy(gate, called));
  }
  EXPECT_FALSE(called);
  EXPECT_EQ(gate.waiting(), 0u) << "its place in the queue is given back";
  work.open();
  holder.join();
  EXPECT_EQ(gate.run([] { return 7; }), 7);
}

TEST(bcrypt_gate, no_hash_starts_after_the_requests_deadline_even_with_a_free_turn) {
  bcrypt_gate gate(2, 2);
  bool called = false;
  {
    const request_deadline::scope out_of_time(std::chrono::steady_clock::now() - 1ms);
    EXPECT_TRUE(refused_busy(gate, called));
  }
  EXPECT_FALSE(called);
  EXPECT_EQ(gate.running(), 0u);
  const request_deadline::scope plenty(std::chrono::steady_clock::now() + 60s);
  EXPECT_EQ(gate.run([] { return 7; }), 7) << "with time left it runs as before";
}

TEST(bcrypt_gate, work_that_throws_gives_its_turn_back) {
  bcrypt_gate gate(1, 0);
  EXPECT_THROW(gate.run([]() -> int { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(gate.running(), 0u);
  EXPECT_NO_THROW(gate.run([] {}));
}

TEST(bcrypt_gate, a_concurrency_of_zero_is_refused) { EXPECT_THROW(bcrypt_gate(0, 4), std::invalid_argument); }

// password_hasher sends hash, verify and the dummy verify through its gate.
TEST(bcrypt_gate, every_password_operation_waits_its_turn_at_the_hashers_gate) {
  bcrypt_gate gate(1, 0);
  const password_hasher hasher(4, &gate);
  const std::string h = hasher.hash("correct horse battery");
  EXPECT_TRUE(hasher.verify("correct horse battery", h));

  latch_gate_work work;
  std::thread holder([&] { gate.run([&] { work.wait(); }); });
  ASSERT_TRUE(eventually([&] { return gate.running() == 1; }));
  const auto expect_busy = [](const auto& action, const char* what) {
    try {
      action();
      ADD_FAILURE() << what << " passed a full gate";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), "server_busy") << what;
    }
  };
  expect_busy([&] { (void)hasher.hash("another password"); }, "hash");
  expect_busy([&] { (void)hasher.verify("correct horse battery", h); }, "verify");
  expect_busy([&] { hasher.verify_dummy("correct horse battery"); }, "verify_dummy");
  // Nothing to hash, nothing to wait for: a malformed hash is just false.
  EXPECT_FALSE(hasher.verify("correct horse battery", "not a hash"));
  work.open();
  holder.join();
  EXPECT_NO_THROW(hasher.verify_dummy("correct horse battery"));
}

}  // namespace
}  // namespace gatehouse::auth
