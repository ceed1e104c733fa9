#pragma once
// The time by which the request being handled on this thread must have its
// answer: the one bound that every wait on a backend (an AWS attempt and its
// retries, an SMTP delivery, mail retries, SQLite's busy wait, the bcrypt
// queue) takes as its own upper limit, so a request that makes several calls
// in sequence still answers before its caller gives up (docs/RELIABILITY.md).
//
// The pipeline sets it around one request's handling from what the front end
// knows (http::request::deadline); a handler runs start to end on the thread
// that called the pipeline, so a thread-local is the right carrier. Code that
// hands work to another thread passes the time explicitly (net::resolve_before
// takes its deadline as an argument). Outside a request (start-up, the CLI,
// periodic jobs) there is none and only the configured timeouts apply.
#include <chrono>
#include <optional>

namespace gatehouse::request_deadline {

using clock = std::chrono::steady_clock;

// This thread's deadline for the scope's lifetime. A nested scope can only
// bring it earlier; the one before is restored at the end.
class scope {
 public:
  explicit scope(clock::time_point answer_by) noexcept;
  ~scope();
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

 private:
  std::optional<clock::time_point> previous_;
};

// The one exception to "only earlier": once a request's answer is decided,
// the bookkeeping that makes its retry safe (settling or releasing its
// Idempotency-Key record) may run up to `extra` past the deadline, so a
// request that ran out of time does not also leave its key locked for the
// whole lease. Lambda's answer margin (500 ms) covers it. Nothing outside a
// request.
class grace {
 public:
  explicit grace(std::chrono::milliseconds extra) noexcept;
  ~grace();
  grace(const grace&) = delete;
  grace& operator=(const grace&) = delete;

 private:
  std::optional<clock::time_point> previous_;
};

// The current request's deadline, or nullopt outside a request.
std::optional<clock::time_point> current() noexcept;

// `t`, or the deadline when that comes first.
clock::time_point cap(clock::time_point t) noexcept;

// `d`, or the time left when that is shorter (never negative).
std::chrono::milliseconds cap(std::chrono::milliseconds d) noexcept;

// The time left (zero or negative once passed); clock::duration::max()
// outside a request.
clock::duration remaining() noexcept;

// The deadline has passed.
bool expired() noexcept;

}  // namespace gatehouse::request_deadline
