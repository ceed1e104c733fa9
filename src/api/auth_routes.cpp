// POST /signup, POST /login, POST /token/refresh, POST /logout and POST
// /password/change: parse,
// call accounts::account_service, render.
#include "api/bearer_auth.hpp"
#include "api/request_origin.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "http/json_body.hpp"

#include <string>

namespace gatehouse::api {
namespace {

// Login's and refresh's answer. Never cached.
http::response session_response(const accounts::session& session, const services& s) {
  auto res = http::json_response(200, {{"token", session.access_token},
                                       {"token_type", "Bearer"},
                                       {"expires_in", session.expires_in},
                                       {"refresh_token", session.refresh_token},
                                       {"user", user_json(session.user, s.images)}});
  http::mark_secret(res);
  return res;
}

http::response signup(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  accounts::signup_form form{http::required_string(body, "name"), http::required_string(body, "email"),
                             http::required_string(body, "password")};
  const auto u = s.accounts.sign_up(form, origin_of(req, s));
  req.user_id = u.user_id;
  return http::json_response(201, {{"user", user_json(u, s.images)}});
}

http::response login(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const std::string email = http::required_string(body, "email");
  const std::string password = http::required_string(body, "password");
  const auto session = s.accounts.log_in(email, password, origin_of(req, s));
  req.user_id = session.user.user_id;
  return session_response(session, s);
}

// The refresh token arrives in the body only (never a query string, which
// ends up in logs). A string of the wrong shape is simply unknown to the
// service: 401 (or 204 for logout), without a store lookup.
std::string refresh_token_from(const http::request& req) {
  const auto body = http::parse_json_object(req);
  return http::required_string(body, "refresh_token");
}

http::response refresh(http::request& req, const services& s) {
  const auto session = s.accounts.refresh(refresh_token_from(req));
  req.user_id = session.user.user_id;
  return session_response(session, s);
}

// Public: the refresh token is the proof, so a Bearer token is neither
// needed nor looked at. Unknown, expired and already revoked tokens get the
// same 204 as a live one.
http::response logout(http::request& req, const services& s) {
  s.accounts.log_out(refresh_token_from(req));
  return http::empty_response(204);
}

// A new session for the caller; every other session ends.
http::response change_password(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  const std::string current = http::required_string(body, "current_password");
  const std::string next = http::required_string(body, "new_password");
  const auto session = s.accounts.change_password(caller.user, current, next, origin_of(req, s));
  return session_response(session, s);
}

}  // namespace

void bind_auth_routes(http::router& r, const services& s) {
  r.add("POST", "/signup", [&s](http::request& req) { return signup(req, s); });
  r.add("POST", "/login", [&s](http::request& req) { return login(req, s); });
  r.add("POST", "/token/refresh", [&s](http::request& req) { return refresh(req, s); });
  r.add("POST", "/logout", [&s](http::request& req) { return logout(req, s); });
  r.add("POST", "/password/change", [&s](http::request& req) { return change_password(req, s); });
}

}  // namespace gatehouse::api
