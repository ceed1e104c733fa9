#pragma once
// Arithmetic on times that come from outside (a token's exp or iat): it
// must not overflow into the past or the future.
#include <cstdint>
#include <limits>

namespace gatehouse {

constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  if (b > 0 && a > max - b) return max;
  if (b < 0 && a < min - b) return min;
  return a + b;
}

}  // namespace gatehouse
