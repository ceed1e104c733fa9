#include "auth/login_limits.hpp"

#include "base/log.hpp"
#include "crypto/crypto.hpp"

#include <stdexcept>
#include <utility>

namespace gatehouse::auth {
namespace {

constexpr std::size_t min_key_bytes = 32;

constexpr std::string_view login_email_kind = "login-email";
constexpr std::string_view login_ip_kind = "login-ip";
constexpr std::string_view signup_ip_kind = "signup-ip";

}  // namespace

error rate_limited(std::int64_t retry_after_seconds) {
  return error(error_kind::resource_exhausted, "rate_limited", "too many attempts; try again later")
      .with_header("retry-after", std::to_string(retry_after_seconds < 1 ? 1 : retry_after_seconds));
}

login_limits::login_limits(rate_limiter& limiter, std::string key, limit_settings settings)
    : limiter_(limiter), key_(std::move(key)), settings_(settings) {
  if (key_.size() < min_key_bytes) throw std::invalid_argument("rate limit key must be at least 32 bytes");
}

std::string login_limits::key_for(std::string_view kind, std::string_view value) const {
  std::string message(kind);
  message += '\n';
  message.append(value);
  return crypto::to_hex(crypto::hmac_sha256(key_, message));
}

login_limits::login_hits login_limits::admit_login(std::string_view email, std::string_view source_ip,
                                                   std::int64_t now) {
  login_hits hits;
  if (settings_.login_per_email.enabled()) {
    hits.email = limiter_.hit(key_for(login_email_kind, email), settings_.login_per_email, now);
    if (!hits.email->allowed) throw rate_limited(hits.email->retry_after);
  }
  if (settings_.login_per_ip.enabled()) {
    hits.ip = limiter_.hit(key_for(login_ip_kind, source_ip), settings_.login_per_ip, now);
    if (!hits.ip->allowed) {
      // Refused: the attempt counts nowhere, so the e-mail gets its slot back.
      if (hits.email) {
        try {
          limiter_.undo(key_for(login_email_kind, email), hits.email->window_start);
        } catch (const std::exception& e) {
          log::warn("rate limit: giving back a refused login's e-mail hit failed", {{"what", e.what()}});
        }
      }
      throw rate_limited(hits.ip->retry_after);
    }
  }
  return hits;
}

void login_limits::login_succeeded(std::string_view email, std::string_view source_ip, const login_hits& hits) {
  if (hits.email) limiter_.reset(key_for(login_email_kind, email), hits.email->window_start);
  if (hits.ip) limiter_.undo(key_for(login_ip_kind, source_ip), hits.ip->window_start);
}

void login_limits::admit_signup(std::string_view source_ip, std::int64_t now) {
  if (!settings_.signup_per_ip.enabled()) return;
  const auto hit = limiter_.hit(key_for(signup_ip_kind, source_ip), settings_.signup_per_ip, now);
  if (!hit.allowed) throw rate_limited(hit.retry_after);
}

}  // namespace gatehouse::auth
