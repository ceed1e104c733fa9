#pragma once
// Unix seconds as an ISO 8601 UTC timestamp with milliseconds
// ("2026-11-28T16:05:00.000Z"), the form of the contract's createdAt and of
// an S3 POST policy's expiration.
#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <string>

namespace gatehouse {

inline std::string iso8601_utc(std::int64_t unix_seconds) {
  constexpr std::int64_t last_second = 253402300799;  // 9999-12-31T23:59:59Z: four-digit years only
  if (unix_seconds < 0 || unix_seconds > last_second)
    throw std::invalid_argument("iso8601_utc: time outside 1970..9999");
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return std::string(buf, n);
}

}  // namespace gatehouse
