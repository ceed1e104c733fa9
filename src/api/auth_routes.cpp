// POST /signup and POST /login.
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "http/json_body.hpp"
#include "users/validation.hpp"

namespace gatehouse::api {
namespace {

http::response signup(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  users::user u;
  u.name = users::normalize_name(http::required_string(body, "name"));
  u.email = users::normalize_email(http::required_string(body, "email"));
  const std::string password = http::required_string(body, "password");
  users::check_password(password);

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

http::response login(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const std::string raw_email = http::required_string(body, "email");
  const std::string password = http::required_string(body, "password");

  std::optional<users::user> found;
  try {
    found = s.users.find_by_email(users::normalize_email(raw_email));
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_argument) throw;
    // A malformed e-mail cannot belong to an account: fail like an unknown one.
  }
  if (!found) {
    s.passwords.verify_dummy(password);  // same cost as a real check
    throw invalid_credentials();
  }
  if (!s.passwords.verify(password, found->password_hash)) throw invalid_credentials();

  const std::int64_t now = s.now_seconds();
  auth::access_claims claims{found->user_id, found->email, now,
                             now + s.settings.access_token_ttl_seconds};
  req.user_id = found->user_id;
  return http::json_response(200, {{"token", s.tokens.sign(claims)},
                                   {"token_type", "Bearer"},
                                   {"expires_in", s.settings.access_token_ttl_seconds},
                                   {"user", user_json(*found, s.images)}});
}

}  // namespace

void bind_auth_routes(http::router& r, const services& s) {
  r.add("POST", "/signup", [&s](http::request& req) { return signup(req, s); });
  r.add("POST", "/login", [&s](http::request& req) { return login(req, s); });
}

}  // namespace gatehouse::api
