#pragma once
// Counting events per key in fixed windows, for rate limits. The counters
// live in the store (sqlite/, dynamodb/) so that a limit holds across
// server processes and Lambda instances. Every method is safe to call from
// many threads and processes at once; a backend failure or timeout throws
// storage_unavailable (503).
//
// Fixed windows: the window holding `now` starts at floor(now / window) *
// window and the count starts again from zero at its end. A burst across a
// window boundary can therefore pass up to twice the limit; in exchange a
// counter is one atomic increment, on SQLite and on DynamoDB alike.
//
// Which keys are limited, and how, is not here but in auth/login_limits.
// Keys arrive already hashed: a limiter stores them as they are given.
#include <cstdint>
#include <string_view>

namespace gatehouse::auth {

// At most `max` events per `window_seconds`. max 0 turns the limit off.
struct rate_limit {
  std::int64_t max = 0;
  std::int64_t window_seconds = 0;

  bool enabled() const noexcept { return max > 0 && window_seconds > 0; }
  friend bool operator==(const rate_limit&, const rate_limit&) = default;
};

// What one hit found.
struct hit_result {
  bool allowed = true;            // count <= max
  std::int64_t count = 0;         // events in this window, this one included
  std::int64_t window_start = 0;  // unix seconds; what undo and reset take
  std::int64_t retry_after = 0;   // seconds until this window ends, at least 1
};

// floor(now / window) * window, also for a negative `now`. `window_seconds` > 0.
constexpr std::int64_t window_start_of(std::int64_t now, std::int64_t window_seconds) noexcept {
  const std::int64_t q = now / window_seconds;
  return (now % window_seconds < 0 ? q - 1 : q) * window_seconds;
}

// The verdict on `count` events in the window of `limit` starting at
// `window_start`, seen at `now`.
constexpr hit_result judge(std::int64_t count, const rate_limit& limit, std::int64_t window_start,
                           std::int64_t now) noexcept {
  const std::int64_t left = window_start + limit.window_seconds - now;
  return hit_result{count <= limit.max, count, window_start, left < 1 ? 1 : left};
}

class rate_limiter {
 public:
  virtual ~rate_limiter() = default;

  // Counts one event for `key` in the window of `limit` (enabled(): the
  // caller skips limits that are off) that holds `now`, atomically: of
  // concurrent hits on one key, exactly `limit.max` per window are
  // allowed. A refused hit is counted too.
  virtual hit_result hit(std::string_view key, const rate_limit& limit, std::int64_t now) = 0;

  // Takes back one event counted by a hit in the window starting at
  // `window_start`; never below zero. Nothing for an unknown window.
  virtual void undo(std::string_view key, std::int64_t window_start) = 0;

  // Forgets every event of `key` in the window starting at `window_start`.
  virtual void reset(std::string_view key, std::int64_t window_start) = 0;
};

}  // namespace gatehouse::auth
