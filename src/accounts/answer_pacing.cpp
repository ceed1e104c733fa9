#include "accounts/answer_pacing.hpp"

#include "base/request_deadline.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <cstdint>
#include <thread>

namespace gatehouse::accounts {

void answer_pacing::record(clock::duration took) {
  std::lock_guard lock(mutex_);
  recent_[count_ % recent_.size()] = took;
  ++count_;
}

answer_pacing::clock::duration answer_pacing::sample() {
  std::lock_guard lock(mutex_);
  const std::size_t held = std::min(count_, recent_.size());
  if (held == 0) return clock::duration::zero();
  // Uniform over the ring: the imitation has the real answers' distribution.
  const std::string r = crypto::random_bytes(4);
  const std::uint32_t n = (std::uint32_t(std::uint8_t(r[0])) << 24) | (std::uint32_t(std::uint8_t(r[1])) << 16) |
                          (std::uint32_t(std::uint8_t(r[2])) << 8) | std::uint8_t(r[3]);
  return recent_[n % held];
}

void answer_pacing::imitate(clock::time_point started) {
  const auto target = std::min<clock::duration>(sample(), max_wait);
  const auto spent = clock::now() - started;
  // Never past the request's deadline: a real answer that slow would
  // have ended in a 503 by then.
  if (spent < target) std::this_thread::sleep_until(request_deadline::cap(started + target));
}

}  // namespace gatehouse::accounts
