#pragma once
// The one gate every bcrypt hash and verify passes (auth::password_hasher):
// at most `concurrency` running at once and at most `queue_depth` waiting
// for a turn. Beyond that a caller is refused at once, before any hashing,
// with 503 `server_busy` and Retry-After, so a flood of logins or sign-ups
// can hold at most concurrency + queue_depth threads and never more CPU
// than `concurrency` cores: the rest of the server keeps its share. The
// local server gives the gate that many worker threads on top of its own
// (app/main.cpp), so waiting hashes never take a thread other routes need.
// On Lambda one invocation runs at a time and the gate never refuses for
// load, only when the invocation's time has run out (base/request_deadline).
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace gatehouse::auth {

class bcrypt_gate {
 public:
  // `concurrency` at least 1 (else std::invalid_argument); `queue_depth` may be 0.
  bcrypt_gate(std::size_t concurrency, std::size_t queue_depth);
  bcrypt_gate(const bcrypt_gate&) = delete;
  bcrypt_gate& operator=(const bcrypt_gate&) = delete;

  // Runs `work` once a turn is free; throws error(unavailable, "server_busy")
  // with Retry-After when `queue_depth` callers are waiting already, or
  // when the request's deadline (base/request_deadline) passes before a
  // turn comes (or has passed already).
  template <typename Work>
  decltype(auto) run(Work&& work) {
    const turn t(*this);
    return work();
  }

  // How many threads the gate can hold at once: running plus waiting.
  std::size_t capacity() const { return concurrency_ + queue_depth_; }
  std::size_t running() const;
  std::size_t waiting() const;

 private:
  // Holds a running slot for its lifetime.
  class turn {
   public:
    explicit turn(bcrypt_gate& gate) : gate_(gate) { gate_.enter(); }
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;
    ~turn() { gate_.leave(); }

   private:
    bcrypt_gate& gate_;
  };

  void enter();
  void leave();

  const std::size_t concurrency_;
  const std::size_t queue_depth_;
  mutable std::mutex mutex_;
  std::condition_variable turn_free_;
  std::size_t running_ = 0;
  std::size_t waiting_ = 0;
};

}  // namespace gatehouse::auth
