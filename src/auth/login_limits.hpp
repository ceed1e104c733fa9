#pragma once
// The rate-limit policy of login and sign-up, on any auth::rate_limiter:
//
//   failed logins per e-mail   (RATE_LIMIT_LOGIN_PER_EMAIL, default 5 per 15 min)
//   failed logins per source IP (RATE_LIMIT_LOGIN_PER_IP,   default 30 per 5 min)
//   sign-ups per source IP      (RATE_LIMIT_SIGNUP_PER_IP,  default 30 per hour)
//
// A login attempt takes its slot (a hit) before any user lookup or bcrypt
// work, so concurrent attempts cannot slip past a limit together: of any
// number of parallel attempts, at most the limit get to check a password.
// A key at its limit refuses the attempt with 429 rate_limited; the other
// key's hit is given back, so a refused attempt counts nowhere. A wrong
// password keeps both hits. A right one gives the IP's hit back and resets
// the e-mail's count: in the end only failures count. An attempt that ends
// in an error before its outcome is known (503) stays counted, erring on
// the side of the limit.
//
// A sign-up takes its slot once its fields are valid, before bcrypt and the
// store: every such attempt counts, whatever its outcome (a 409 too, since
// repeated sign-ups probe which e-mails have accounts).
//
// Keys are HMAC-SHA256 hex of "<kind>\n<value>" under a key of the
// service's own, so the limiter's store never holds an e-mail or an IP in
// clear, nor a plain hash that a dictionary of IPv4 addresses would undo.
#include "auth/rate_limiter.hpp"
#include "base/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::auth {

struct limit_settings {
  rate_limit login_per_email{5, 15 * 60};
  rate_limit login_per_ip{30, 5 * 60};
  rate_limit signup_per_ip{30, 60 * 60};
};

// 429 `rate_limited` with Retry-After: `retry_after_seconds`.
error rate_limited(std::int64_t retry_after_seconds);

class login_limits {
 public:
  // The hits one admitted login made, for login_succeeded to give back.
  struct login_hits {
    std::optional<hit_result> email;
    std::optional<hit_result> ip;
  };

  // `key` (at least 32 bytes, std::invalid_argument otherwise) keys the
  // hashes. `limiter` must outlive the service.
  login_limits(rate_limiter& limiter, std::string key, limit_settings settings);

  // Before a login looks anything up: counts the attempt against `email`
  // (normalised as login does) and `source_ip`, or throws rate_limited()
  // when either is at its limit.
  login_hits admit_login(std::string_view email, std::string_view source_ip, std::int64_t now);

  // The password was right: the e-mail's failures are forgotten and the
  // IP's hit is given back.
  void login_succeeded(std::string_view email, std::string_view source_ip, const login_hits& hits);

  // Before a sign-up hashes its password: counts it against `source_ip`,
  // or throws rate_limited().
  void admit_signup(std::string_view source_ip, std::int64_t now);

  const limit_settings& settings() const noexcept { return settings_; }

  // The key stored for `value` of `kind` ("login-email", "login-ip",
  // "signup-ip"); exposed for tests.
  std::string key_for(std::string_view kind, std::string_view value) const;

 private:
  rate_limiter& limiter_;
  std::string key_;
  limit_settings settings_;
};

}  // namespace gatehouse::auth
