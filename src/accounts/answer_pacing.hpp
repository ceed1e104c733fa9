#pragma once
// Keeps the public mail routes (/password/forgot, /email/verify/request
// with an e-mail) from telling by their timing whether an account exists:
// an answer that sent nothing waits about as long as recent answers that
// did (a duration drawn from the last few), so both have one distribution.
#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>

namespace gatehouse::accounts {

class answer_pacing {
 public:
  using clock = std::chrono::steady_clock;

  // An answer that looked the account up and sent its mail took this long.
  void record(clock::duration took);

  // For an answer that sent nothing and began at `started`: sleeps until it
  // has taken as long as a recent real answer (never more than max_wait,
  // nor past the request's deadline).
  void imitate(clock::time_point started);

  static constexpr std::chrono::seconds max_wait{10};

 private:
  clock::duration sample();

  std::mutex mutex_;
  std::array<clock::duration, 32> recent_{};
  std::size_t count_ = 0;  // recorded so far (the ring holds the last 32)
};

}  // namespace gatehouse::accounts
