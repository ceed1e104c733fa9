#pragma once
// The rate-limit policy of login and sign-up, on any auth::rate_limiter:
//
//   failed logins per (e-mail, source IP) (RATE_LIMIT_LOGIN_PER_EMAIL_IP, default 5 per 15 min)
//   failed logins per e-mail, from anywhere (RATE_LIMIT_LOGIN_PER_EMAIL, default 100 per hour)
//   failed logins per source IP            (RATE_LIMIT_LOGIN_PER_IP,     default 30 per 5 min)
//   every login per source IP              (RATE_LIMIT_LOGINS_PER_IP,    default 100 per 5 min)
//   sign-ups per source IP                 (RATE_LIMIT_SIGNUP_PER_IP,    default 30 per hour)
//   mails asked for one address            (RATE_LIMIT_MAIL_PER_EMAIL,   default 5 per hour)
//   mails asked for from one source IP     (RATE_LIMIT_MAIL_PER_IP,      default 20 per hour)
//
// Failures are counted per (e-mail, source IP) so that a stranger's
// guesses from one address do not lock the owner out at another; the
// per-e-mail limit from anywhere is much slower, so that guesses spread
// over many addresses are still bounded. The count of every login per
// source IP bounds what one address can make the server do (a bcrypt and
// a new session each), whatever the outcome.
//
// A login attempt takes its slots (hits) before any user lookup or bcrypt
// work, so concurrent attempts cannot slip past a limit together: of any
// number of parallel attempts, at most the limit get to check a password.
// A key at its limit refuses the attempt with 429 rate_limited; the other
// keys' hits are given back, so a refused attempt counts nowhere. A wrong
// password keeps every hit. A right one resets the (e-mail, IP) count
// (the owner got it right from there: earlier typos are forgiven) and
// gives back its own hits on the failure counts of the e-mail and the IP,
// which keep the failures made elsewhere; its hit on the logins-per-IP
// count stays. An attempt that ends in an error before its outcome is
// known (503) stays counted, erring on the side of the limit.
//
// A sign-up takes its slot once its fields are valid, before bcrypt and the
// store: every such attempt counts, whatever its outcome (a 409 too, since
// repeated sign-ups probe which e-mails have accounts).
//
// A route that sends mail (verification, reset, e-mail change) takes its
// slots before it looks anything up, whatever its outcome, so an inbox
// cannot be flooded and the answer cannot tell whether an account exists.
//
// Keys are HMAC-SHA256 hex of "<kind>\n<value>" under a key of the
// service's own, so the limiter's store never holds an e-mail or an IP in
// clear, nor a plain hash that a dictionary of IPv4 addresses would undo.
#include "auth/rate_limiter.hpp"
#include "base/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::auth {

struct limit_settings {
  rate_limit login_per_email_ip{5, 15 * 60};  // failures per (e-mail, source IP)
  rate_limit login_per_email{100, 60 * 60};   // failures per e-mail from anywhere
  rate_limit login_per_ip{30, 5 * 60};        // failures per source IP
  rate_limit logins_per_ip{100, 5 * 60};      // every login per source IP
  rate_limit signup_per_ip{30, 60 * 60};
  rate_limit mail_per_email{5, 60 * 60};  // mails asked for one address (the account's or the one typed)
  rate_limit mail_per_ip{20, 60 * 60};    // mails asked for from one source IP
};

// 429 `rate_limited` with Retry-After: `retry_after_seconds`.
error rate_limited(std::int64_t retry_after_seconds);

class login_limits {
 public:
  // The keys one login is counted under, in the order they are hit.
  enum class login_key { email_ip, email, ip_failures, ip_logins };
  static constexpr std::size_t login_key_count = 4;

  // The hits one admitted login made, for login_succeeded; one per key
  // whose limit is on.
  struct login_hits {
    std::array<std::optional<hit_result>, login_key_count> hits;
    const std::optional<hit_result>& operator[](login_key k) const { return hits[static_cast<std::size_t>(k)]; }
  };

  // `key` (at least 32 bytes, std::invalid_argument otherwise) keys the
  // hashes. `limiter` must outlive the service.
  login_limits(rate_limiter& limiter, std::string key, limit_settings settings);

  // Before a login looks anything up: counts the attempt against `email`
  // (normalised as login does) and `source_ip`, or throws rate_limited()
  // when any of its keys is at its limit.
  login_hits admit_login(std::string_view email, std::string_view source_ip, std::int64_t now);

  // The password was right: see the header comment.
  void login_succeeded(std::string_view email, std::string_view source_ip, const login_hits& hits);

  // Before a sign-up hashes its password: counts it against `source_ip`,
  // or throws rate_limited().
  void admit_signup(std::string_view source_ip, std::int64_t now);

  // Before a route that may send mail to `email` (normalised) looks
  // anything up: counts it against the address and `source_ip`, or throws
  // rate_limited() (the address's hit is given back when the IP refuses).
  void admit_mail(std::string_view email, std::string_view source_ip, std::int64_t now);

  const limit_settings& settings() const noexcept { return settings_; }

  // The key stored for `value` of `kind` ("login-email-ip", "login-email",
  // "login-ip", "logins-ip", "signup-ip", "mail-email", "mail-ip"); exposed for tests.
  std::string key_for(std::string_view kind, std::string_view value) const;
  // The stored key of `k` for this e-mail and address; exposed for tests.
  std::string login_key_for(login_key k, std::string_view email, std::string_view source_ip) const;

 private:
  const rate_limit& limit_of(login_key k) const;

  rate_limiter& limiter_;
  std::string key_;
  limit_settings settings_;
};

}  // namespace gatehouse::auth
