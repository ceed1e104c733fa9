#include "mfa/totp.hpp"

#include "crypto/crypto.hpp"
#include "mfa/hotp.hpp"

#include <stdexcept>

namespace gatehouse::mfa {

std::string new_totp_secret() { return crypto::random_bytes(totp_secret_bytes); }

std::optional<std::int64_t> totp_step_at(std::int64_t unix_seconds) {
  if (unix_seconds < 0) return std::nullopt;
  return unix_seconds / totp_period_seconds;
}

std::string totp_code(std::string_view secret, std::int64_t step, int digits) {
  if (step < 0) throw std::invalid_argument("totp: a step before 1970");
  return hotp_code(secret, static_cast<std::uint64_t>(step), digits);
}

std::string totp_code(std::string_view secret, std::int64_t step) { return totp_code(secret, step, totp_digits); }

bool is_well_formed_totp_code(std::string_view code) {
  if (code.size() != static_cast<std::size_t>(totp_digits)) return false;
  for (const char c : code)
    if (c < '0' || c > '9') return false;
  return true;
}

totp_verdict check_totp(std::string_view secret, std::string_view code, std::int64_t unix_seconds,
                        std::optional<std::int64_t> last_accepted_step) {
  if (!is_well_formed_totp_code(code)) return {totp_outcome::malformed};
  const auto now = totp_step_at(unix_seconds);
  if (!now) return {totp_outcome::wrong_code};
  std::optional<std::int64_t> fresh;
  bool stale = false;
  // No early exit: the time taken says nothing about which step matched.
  // Ascending, so two matching fresh steps (a one-in-a-million collision)
  // yield the later one, which refuses both from then on.
  for (std::int64_t step = *now - totp_drift_steps; step <= *now + totp_drift_steps; ++step) {
    if (step < 0) continue;
    const bool match = crypto::constant_time_equal(totp_code(secret, step), code);
    if (!match) continue;
    if (last_accepted_step && step <= *last_accepted_step)
      stale = true;
    else
      fresh = step;
  }
  if (fresh) return {totp_outcome::accepted, *fresh};
  return {stale ? totp_outcome::replayed : totp_outcome::wrong_code};
}

}  // namespace gatehouse::mfa
