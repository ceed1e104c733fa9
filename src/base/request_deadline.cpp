#include "base/request_deadline.hpp"

#include <algorithm>

namespace gatehouse::request_deadline {
namespace {
thread_local std::optional<clock::time_point> this_thread_deadline;
}  // namespace

scope::scope(clock::time_point answer_by) noexcept : previous_(this_thread_deadline) {
  this_thread_deadline = previous_ ? std::min(*previous_, answer_by) : answer_by;
}

scope::~scope() { this_thread_deadline = previous_; }

grace::grace(std::chrono::milliseconds extra) noexcept : previous_(this_thread_deadline) {
  if (previous_) this_thread_deadline = std::max(*previous_, clock::now()) + extra;
}

grace::~grace() { this_thread_deadline = previous_; }

std::optional<clock::time_point> current() noexcept { return this_thread_deadline; }

clock::time_point cap(clock::time_point t) noexcept {
  return this_thread_deadline ? std::min(t, *this_thread_deadline) : t;
}

std::chrono::milliseconds cap(std::chrono::milliseconds d) noexcept {
  if (!this_thread_deadline) return d;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*this_thread_deadline - clock::now());
  return std::max(std::chrono::milliseconds(0), std::min(d, left));
}

clock::duration remaining() noexcept {
  return this_thread_deadline ? *this_thread_deadline - clock::now() : clock::duration::max();
}

bool expired() noexcept { return this_thread_deadline && clock::now() >= *this_thread_deadline; }

}  // namespace gatehouse::request_deadline
