#include "auth/bcrypt_gate.hpp"

#include "base/error.hpp"

#include <stdexcept>

namespace gatehouse::auth {

bcrypt_gate::bcrypt_gate(std::size_t concurrency, std::size_t queue_depth)
    : concurrency_(concurrency), queue_depth_(queue_depth) {
  if (concurrency_ == 0) throw std::invalid_argument("bcrypt gate: concurrency must be at least 1");
}

void bcrypt_gate::enter() {
  std::unique_lock lock(mutex_);
  if (running_ < concurrency_ && waiting_ == 0) {
    ++running_;
    return;
  }
  if (waiting_ >= queue_depth_)
    throw error(error_kind::unavailable, "server_busy", "the server is busy hashing passwords, retry shortly")
        .with_header("retry-after", "1");
  ++waiting_;
  turn_free_.wait(lock, [this] { return running_ < concurrency_; });
  --waiting_;
  ++running_;
}

void bcrypt_gate::leave() {
  {
    const std::lock_guard lock(mutex_);
    --running_;
  }
  turn_free_.notify_one();
}

std::size_t bcrypt_gate::running() const {
  const std::lock_guard lock(mutex_);
  return running_;
}

std::size_t bcrypt_gate::waiting() const {
  const std::lock_guard lock(mutex_);
  return waiting_;
}

}  // namespace gatehouse::auth
