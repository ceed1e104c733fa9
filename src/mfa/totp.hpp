#pragma once
// RFC 6238 TOTP as API.md's "Second factor" fixes it: HMAC-SHA1, 6 digits,
// 30-second steps counted from the Unix epoch, one step of clock drift
// accepted either side. A code works once: check_totp refuses a step at or
// before the last one the caller accepted (and stored), so a code seen over
// a shoulder or in a log cannot be replayed inside its window.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mfa {

inline constexpr int totp_digits = 6;
inline constexpr std::int64_t totp_period_seconds = 30;
inline constexpr std::int64_t totp_drift_steps = 1;
// 160 bits: RFC 4226 4 recommends it, and it is SHA-1's output size.
inline constexpr std::size_t totp_secret_bytes = 20;

// A fresh secret of totp_secret_bytes from the CSPRNG (RAND_bytes).
std::string new_totp_secret();

// RFC 6238 4.2's T for `unix_seconds` (T0 = 0, X = 30): floor(t / 30).
// nullopt before 1970, where no step, and so no code, exists.
std::optional<std::int64_t> totp_step_at(std::int64_t unix_seconds);

// The code of `step` (>= 0; std::invalid_argument otherwise) with the
// product's 6 digits.
std::string totp_code(std::string_view secret, std::int64_t step);
// The same with `digits` (6..8): RFC 6238's vectors are 8 digits long.
std::string totp_code(std::string_view secret, std::int64_t step, int digits);

// Exactly 6 ASCII digits, nothing around them: what a user may send.
bool is_well_formed_totp_code(std::string_view code);

enum class totp_outcome {
  accepted,
  malformed,   // not 6 ASCII digits: refused before any HMAC
  wrong_code,  // no step of the window has this code
  replayed,    // the code of a step at or before the last accepted one
};

struct totp_verdict {
  totp_outcome outcome;
  // When accepted, the step whose code it was: store it as the new
  // last_accepted_step (it may be one ahead of now, on a fast phone).
  std::int64_t step = 0;

  bool accepted() const { return outcome == totp_outcome::accepted; }
};

// Checks `code` against the steps now - 1, now and now + 1 at
// `unix_seconds`, refusing any step <= `last_accepted_step` (nullopt: the
// factor never accepted a code yet). Every step of the window is computed
// and compared in constant time, whichever matches.
totp_verdict check_totp(std::string_view secret, std::string_view code, std::int64_t unix_seconds,
                        std::optional<std::int64_t> last_accepted_step);

}  // namespace gatehouse::mfa
