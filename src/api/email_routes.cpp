// The routes behind the account e-mails: POST /email/verify/request and
// /email/verify/confirm, /password/forgot and /password/reset,
// /email/change and /email/change/confirm. Those that send mail answer 202
// {"status":"accepted"} whatever happened to the mail.
#include "api/bearer_auth.hpp"
#include "api/request_origin.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "http/json_body.hpp"

#include <string>

namespace gatehouse::api {
namespace {

http::response accepted() { return http::json_response(202, {{"status", "accepted"}}); }

http::response user_response(const users::user& u, const services& s) {
  return http::json_response(200, {{"user", user_json(u, s.images)}});
}

// Signed in: the caller's own address. Not signed in (required mode keeps
// the user from logging in): by address, with the same answer whether or
// not an account has it.
http::response request_verification(http::request& req, const services& s) {
  if (req.header("authorization")) {
    const auto caller = require_bearer(req, s);
    s.verification.request_for(caller.user, origin_of(req, s));
    return accepted();
  }
  const auto body = http::parse_json_object(req);
  s.verification.request_for_email(http::required_string(body, "email"), origin_of(req, s));
  return accepted();
}

http::response confirm_verification(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const auto u = s.verification.confirm(http::required_string(body, "token"));
  req.user_id = u.user_id;
  return user_response(u, s);
}

http::response forgot_password(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  s.resets.forgot(http::required_string(body, "email"), origin_of(req, s));
  return accepted();
}

http::response reset_password(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const std::string token = http::required_string(body, "token");
  const auto u = s.resets.reset(token, http::required_string(body, "password"));
  req.user_id = u.user_id;
  return user_response(u, s);
}

http::response request_email_change(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  const std::string new_email = http::required_string(body, "new_email");
  s.email_changes.request(caller.user, new_email, http::required_string(body, "password"), origin_of(req, s));
  return accepted();
}

http::response confirm_email_change(http::request& req, const services& s) {
  const auto body = http::parse_json_object(req);
  const auto u = s.email_changes.confirm(http::required_string(body, "token"));
  req.user_id = u.user_id;
  return user_response(u, s);
}

}  // namespace

void bind_email_routes(http::router& r, const services& s) {
  r.add("POST", "/email/verify/request", [&s](http::request& req) { return request_verification(req, s); });
  r.add("POST", "/email/verify/confirm", [&s](http::request& req) { return confirm_verification(req, s); });
  r.add("POST", "/password/forgot", [&s](http::request& req) { return forgot_password(req, s); });
  r.add("POST", "/password/reset", [&s](http::request& req) { return reset_password(req, s); });
  r.add("POST", "/email/change", [&s](http::request& req) { return request_email_change(req, s); });
  r.add("POST", "/email/change/confirm", [&s](http::request& req) { return confirm_email_change(req, s); });
}

}  // namespace gatehouse::api
