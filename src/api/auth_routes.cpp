// POST /signup, POST /login, POST /token/refresh and POST /logout.
#include "api/client_ip.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "http/json_body.hpp"
#include "users/validation.hpp"

#include <optional>
#include <string>

namespace gatehouse::api {
namespace {

// Login's and refresh's answer: a fresh access token, the refresh token
// to use next time, and the user. Never cached.
http::response session_response(const users::user& u, const std::string& refresh_token, const services& s) {
  const std::int64_t now = s.now_seconds();
  const auth::access_claims claims{u.user_id, u.email, now, now + s.settings.access_token_ttl_seconds};
  auto res = http::json_response(200, {{"token", s.tokens.sign(claims)},
                                       {"token_type", "Bearer"},
                                       {"expires_in", s.settings.access_token_ttl_seconds},
                                       {"refresh_token", refresh_token},
                                       {"user", user_json(u, s.images)}});
  http::mark_secret(res);
  return res;
}

http::response signup(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  users::user u;
  u.name = users::normalize_name(http::required_string(body, "name"));
  u.email = users::normalize_email(http::required_string(body, "email"));
  const std::string password = http::required_string(body, "password");
  users::check_password(password);
  // Valid fields: from here on the attempt costs bcrypt and a write.
  s.limits.admit_signup(client_ip(req, s.settings.trust_proxy), s.now_seconds());

  u.user_id = crypto::uuid_v4();
  u.password_hash = s.passwords.hash(password);
  u.created_at = log::utc_timestamp_now();
  if (!s.users.create(u))
    throw error(error_kind::already_exists, "email_taken", "an account with this email already exists",
                "email");
  req.user_id = u.user_id;
  return http::json_response(201, {{"user", user_json(u, s.images)}});
}

// One body for every failure, so responses cannot tell an unknown e-mail
// from a wrong password.
error invalid_credentials() {
  return error(error_kind::unauthenticated, "invalid_credentials", "invalid email or password");
}

// A hash of another cost or variant (bcryptjs's `$2a$` from the Node.js
// version, or one made before BCRYPT_COST changed) is replaced by one at
// the configured cost while the password is at hand. Until then a wrong
// password for that account would take that cost's time, which the dummy
// verify for unknown e-mails cannot imitate. The login does not depend on
// it: a failure is logged and the old hash keeps working.
void upgrade_password_hash(const users::user& u, const std::string& password, const http::request& req,
                           const services& s) {
  if (!s.passwords.needs_rehash(u.password_hash)) return;
  try {
    if (!s.users.replace_password_hash(u.user_id, u.password_hash, s.passwords.hash(password)))
      log::info("password hash changed meanwhile; not upgraded", {{"request_id", req.request_id}});
  } catch (const std::exception& e) {
    log::warn("could not upgrade a password hash", {{"request_id", req.request_id}, {"why", e.what()}});
  }
}

http::response login(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const std::string raw_email = http::required_string(body, "email");
  const std::string password = http::required_string(body, "password");

  std::optional<std::string> email;
  try {
    email = users::normalize_email(raw_email);
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_argument) throw;
    // A malformed e-mail cannot belong to an account: fail like an unknown one.
  }
  // Before any lookup or bcrypt work; a malformed e-mail is limited as sent.
  const std::string limit_email = email ? *email : raw_email;
  const std::string ip = client_ip(req, s.settings.trust_proxy);
  const auto hits = s.limits.admit_login(limit_email, ip, s.now_seconds());

  std::optional<users::user> found;
  if (email) found = s.users.find_by_email(*email);
  if (!found) {
    s.passwords.verify_dummy(password);  // same cost as a real check
    throw invalid_credentials();
  }
  if (!s.passwords.verify(password, found->password_hash)) throw invalid_credentials();
  s.limits.login_succeeded(limit_email, ip, hits);
  upgrade_password_hash(*found, password, req, s);

  req.user_id = found->user_id;
  const auto refresh = s.refresh_tokens.issue(found->user_id);
  return session_response(*found, refresh.token, s);
}

// The refresh token arrives in the body only (never a query string, which
// ends up in logs). A string of the wrong shape is simply unknown to the
// service: 401 (or 204 for logout), without a store lookup.
std::string refresh_token_from(const http::request& req) {
  const auto body = http::parse_json_object(req);
  return http::required_string(body, "refresh_token");
}

http::response refresh(http::request& req, const services& s) {
  const std::string presented = refresh_token_from(req);
  std::optional<users::user> found;
  const auto next = s.refresh_tokens.refresh(presented, [&](const std::string& user_id) {
    found = s.users.find_by_id(user_id);
    return found.has_value();
  });
  req.user_id = next.user_id;
  return session_response(*found, next.token, s);
}

// Public: the refresh token is the proof, so a Bearer token is neither
// needed nor looked at. Unknown, expired and already revoked tokens get the
// same 204 as a live one.
http::response logout(http::request& req, const services& s) {
  s.refresh_tokens.revoke(refresh_token_from(req));
  return http::empty_response(204);
}

}  // namespace

void bind_auth_routes(http::router& r, const services& s) {
  r.add("POST", "/signup", [&s](http::request& req) { return signup(req, s); });
  r.add("POST", "/login", [&s](http::request& req) { return login(req, s); });
  r.add("POST", "/token/refresh", [&s](http::request& req) { return refresh(req, s); });
  r.add("POST", "/logout", [&s](http::request& req) { return logout(req, s); });
}

}  // namespace gatehouse::api
