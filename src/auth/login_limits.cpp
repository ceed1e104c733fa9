#include "auth/login_limits.hpp"

#include "base/log.hpp"
#include "crypto/crypto.hpp"

#include <stdexcept>
#include <utility>

namespace gatehouse::auth {
namespace {

constexpr std::size_t min_key_bytes = 32;

constexpr std::string_view signup_ip_kind = "signup-ip";
constexpr std::string_view mail_email_kind = "mail-email";
constexpr std::string_view mail_ip_kind = "mail-ip";

constexpr std::array<login_limits::login_key, login_limits::login_key_count> all_login_keys{
    login_limits::login_key::email_ip, login_limits::login_key::email, login_limits::login_key::ip_failures,
    login_limits::login_key::ip_logins};

std::string_view kind_of(login_limits::login_key k) {
  switch (k) {
    case login_limits::login_key::email_ip: return "login-email-ip";
    case login_limits::login_key::email: return "login-email";
    case login_limits::login_key::ip_failures: return "login-ip";
    case login_limits::login_key::ip_logins: return "logins-ip";
  }
  return {};
}

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

std::string login_limits::login_key_for(login_key k, std::string_view email, std::string_view source_ip) const {
  switch (k) {
    case login_key::email_ip: {
      // The address first: it never holds a newline, so no other pair
      // (whatever a malformed e-mail holds) gives the same text.
      std::string pair(source_ip);
      pair += '\n';
      pair.append(email);
      return key_for(kind_of(k), pair);
    }
    case login_key::email: return key_for(kind_of(k), email);
    case login_key::ip_failures:
    case login_key::ip_logins: return key_for(kind_of(k), source_ip);
  }
  return {};
}

const rate_limit& login_limits::limit_of(login_key k) const {
  switch (k) {
    case login_key::email_ip: return settings_.login_per_email_ip;
    case login_key::email: return settings_.login_per_email;
    case login_key::ip_failures: return settings_.login_per_ip;
    case login_key::ip_logins: return settings_.logins_per_ip;
  }
  throw std::logic_error("unknown login key");
}

login_limits::login_hits login_limits::admit_login(std::string_view email, std::string_view source_ip,
                                                   std::int64_t now) {
  login_hits taken;
  for (const auto k : all_login_keys) {
    const auto& limit = limit_of(k);
    if (!limit.enabled()) continue;
    const auto hit = limiter_.hit(login_key_for(k, email, source_ip), limit, now);
    if (hit.allowed) {
      taken.hits[static_cast<std::size_t>(k)] = hit;
      continue;
    }
    // Refused: the attempt counts nowhere, so the keys hit before get their slots back.
    for (const auto earlier : all_login_keys) {
      const auto& h = taken[earlier];
      if (!h) continue;
      try {
        limiter_.undo(login_key_for(earlier, email, source_ip), h->window_start);
      } catch (const std::exception& e) {
        log::warn("rate limit: giving back a refused login's hit failed",
                  {{"kind", kind_of(earlier)}, {"what", e.what()}});
      }
    }
    throw rate_limited(hit.retry_after);
  }
  return taken;
}

void login_limits::login_succeeded(std::string_view email, std::string_view source_ip, const login_hits& hits) {
  if (const auto& h = hits[login_key::email_ip])
    limiter_.reset(login_key_for(login_key::email_ip, email, source_ip), h->window_start);
  for (const auto k : {login_key::email, login_key::ip_failures})
    if (const auto& h = hits[k]) limiter_.undo(login_key_for(k, email, source_ip), h->window_start);
  // login_key::ip_logins keeps its hit: every login counts there.
}

void login_limits::admit_signup(std::string_view source_ip, std::int64_t now) {
  if (!settings_.signup_per_ip.enabled()) return;
  const auto hit = limiter_.hit(key_for(signup_ip_kind, source_ip), settings_.signup_per_ip, now);
  if (!hit.allowed) throw rate_limited(hit.retry_after);
}

void login_limits::admit_mail(std::string_view email, std::string_view source_ip, std::int64_t now) {
  std::optional<hit_result> email_hit;
  if (settings_.mail_per_email.enabled()) {
    email_hit = limiter_.hit(key_for(mail_email_kind, email), settings_.mail_per_email, now);
    if (!email_hit->allowed) throw rate_limited(email_hit->retry_after);
  }
  if (!settings_.mail_per_ip.enabled()) return;
  const auto ip_hit = limiter_.hit(key_for(mail_ip_kind, source_ip), settings_.mail_per_ip, now);
  if (ip_hit.allowed) return;
  if (email_hit) {
    try {
      limiter_.undo(key_for(mail_email_kind, email), email_hit->window_start);
    } catch (const std::exception& e) {
      log::warn("rate limit: giving back a refused mail's hit failed", {{"what", e.what()}});
    }
  }
  throw rate_limited(ip_hit.retry_after);
}

}  // namespace gatehouse::auth
