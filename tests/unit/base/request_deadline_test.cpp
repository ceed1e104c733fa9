// The per-request deadline: what every backend wait is bounded by.
#include "base/request_deadline.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

namespace gatehouse::request_deadline {
namespace {

using namespace std::chrono_literals;

TEST(request_deadline, outside_a_request_there_is_none_and_nothing_is_capped) {
  EXPECT_FALSE(current().has_value());
  EXPECT_FALSE(expired());
  EXPECT_EQ(remaining(), clock::duration::max());
  const auto far = clock::now() + 24h;
  EXPECT_EQ(cap(far), far);
  EXPECT_EQ(cap(std::chrono::milliseconds(90000)), std::chrono::milliseconds(90000));
}

TEST(request_deadline, a_scope_caps_times_and_durations_to_itself) {
  const auto answer_by = clock::now() + 60s;
  const scope s(answer_by);
  ASSERT_EQ(current(), answer_by);
  EXPECT_FALSE(expired());
  EXPECT_LE(remaining(), 60s);
  EXPECT_GT(remaining(), 30s);  // a minute minus the few microseconds this test took
  EXPECT_EQ(cap(answer_by + 1s), answer_by);
  EXPECT_EQ(cap(answer_by - 1s), answer_by - 1s);
  EXPECT_LE(cap(std::chrono::milliseconds(120000)), std::chrono::milliseconds(60000));
  EXPECT_EQ(cap(std::chrono::milliseconds(5)), std::chrono::milliseconds(5));
}

TEST(request_deadline, a_passed_deadline_is_expired_and_leaves_no_time) {
  const scope s(clock::now() - 1ms);
  EXPECT_TRUE(expired());
  EXPECT_LE(remaining(), clock::duration::zero());
  EXPECT_EQ(cap(std::chrono::milliseconds(3000)), std::chrono::milliseconds(0));  // never negative
}

TEST(request_deadline, a_nested_scope_only_shortens_and_the_outer_one_comes_back) {
  const auto outer_deadline = clock::now() + 10s;
  const scope outer(outer_deadline);
  {
    const scope later(outer_deadline + 5s);
    EXPECT_EQ(current(), outer_deadline);
    const scope sooner(outer_deadline - 5s);
    EXPECT_EQ(current(), outer_deadline - 5s);
  }
  EXPECT_EQ(current(), outer_deadline);
}

TEST(request_deadline, the_scope_ends_with_its_request) {
  { const scope s(clock::now() + 1s); }
  EXPECT_FALSE(current().has_value());
}

TEST(request_deadline, each_thread_has_its_own) {
  const scope s(clock::now() - 1s);
  std::optional<clock::time_point> seen_elsewhere = clock::now();
  bool expired_elsewhere = true;
  std::thread([&] {
    seen_elsewhere = current();
    expired_elsewhere = expired();
  }).join();
  EXPECT_FALSE(seen_elsewhere.has_value());
  EXPECT_FALSE(expired_elsewhere);
  EXPECT_TRUE(expired());
}

TEST(request_deadline, a_grace_gives_bookkeeping_time_past_a_passed_deadline_then_ends) {
  const auto passed = clock::now() - 2s;
  const scope s(passed);
  ASSERT_TRUE(expired());
  {
    const grace g(300ms);
    EXPECT_FALSE(expired()) << "counted from now, not from the passed deadline";
    EXPECT_LE(remaining(), std::chrono::duration_cast<clock::duration>(300ms));
    EXPECT_GT(remaining(), clock::duration::zero());
  }
  EXPECT_EQ(current(), passed);
  EXPECT_TRUE(expired());
}

TEST(request_deadline, a_grace_outside_a_request_sets_nothing) {
  { const grace g(300ms); EXPECT_FALSE(current().has_value()); }
  EXPECT_FALSE(current().has_value());
}

}  // namespace
}  // namespace gatehouse::request_deadline
