#pragma once
// The wall clock, read one way everywhere. Components take a
// `std::function<std::int64_t()>` (or milliseconds) for "now" so tests can
// fix the time; these are what production passes in.
#include <chrono>
#include <cstdint>

namespace gatehouse {

// Seconds since the Unix epoch, from the system clock.
inline std::int64_t system_now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// The same with millisecond resolution (for what paces requests).
inline std::chrono::milliseconds system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch());
}

}  // namespace gatehouse
