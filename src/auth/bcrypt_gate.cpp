#include "auth/bcrypt_gate.hpp"

#include "base/error.hpp"
#include "base/request_deadline.hpp"

#include <stdexcept>

namespace gatehouse::auth {

bcrypt_gate::bcrypt_gate(std::size_t concurrency, std::size_t queue_depth)
    : concurrency_(concurrency), queue_depth_(queue_depth) {
  if (concurrency_ == 0) throw std::invalid_argument("bcrypt gate: concurrency must be at least 1");
}

namespace {
error busy() {
  return error(error_kind::unavailable, "server_busy", "the server is busy hashing passwords, retry shortly")
      .with_header("retry-after", "1");
}
}  // namespace

void bcrypt_gate::enter() {
  // A hash that starts after the request's deadline is CPU spent on an
  // answer nobody waits for.
  if (request_deadline::expired()) throw busy();
  std::unique_lock lock(mutex_);
  if (running_ < concurrency_ && waiting_ == 0) {
    ++running_;
    return;
  }
  if (waiting_ >= queue_depth_) throw busy();
  ++waiting_;
  const auto turn_is_free = [this] { return running_ < concurrency_; };
  bool got_turn = true;
  if (const auto deadline = request_deadline::current())
    got_turn = turn_free_.wait_until(lock, *deadline, turn_is_free);
  else
    turn_free_.wait(lock, turn_is_free);
  --waiting_;
  if (!got_turn) throw busy();
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
