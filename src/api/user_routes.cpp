// GET /users (paged), GET, PATCH and DELETE /users/me, GET /users/me/export.
#include "api/bearer_auth.hpp"
#include "api/request_origin.hpp"
#include "api/routes.hpp"
#include "api/user_json.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/utc_time.hpp"
#include "http/json_body.hpp"

#include <boost/json/array.hpp>

namespace gatehouse::api {
namespace {

constexpr std::size_t default_page_size = 25;
constexpr std::size_t max_page_size = 100;
constexpr std::size_t max_cursor_chars = 512;

std::size_t parse_limit(const http::request& req) {
  const auto text = req.query_param("limit");
  if (!text) return default_page_size;
  std::size_t value = 0;
  if (text->empty() || text->size() > 3) throw validation_failed("limit", "limit must be 1..100");
  for (char c : *text) {
    if (c < '0' || c > '9') throw validation_failed("limit", "limit must be 1..100");
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value < 1 || value > max_page_size) throw validation_failed("limit", "limit must be 1..100");
  return value;
}

user_view view_for(const accounts::caller& caller, const users::user& listed) {
  return accounts::account_service::sees_everything_of(caller, listed) ? user_view::full : user_view::public_profile;
}

http::response list_users(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const std::size_t limit = parse_limit(req);
  const auto cursor = req.query_param("cursor");
  if (cursor && (cursor->empty() || cursor->size() > max_cursor_chars))
    throw validation_failed("cursor", "cursor is malformed");
  const auto page = s.accounts.list_users(limit, cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
  boost::json::array users;
  users.reserve(page.users.size());
  for (const auto& u : page.users) users.push_back(user_json(u, s.images, view_for(caller, u)));
  boost::json::value next = nullptr;
  if (page.next_cursor) next = *page.next_cursor;
  return http::json_response(200, {{"users", std::move(users)}, {"next_cursor", std::move(next)}});
}

http::response me(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  return http::json_response(200, {{"user", user_json(caller.user, s.images)}});
}

http::response update_me(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  const auto renamed = s.accounts.rename(caller.user, http::required_string(body, "name"));
  return http::json_response(200, {{"user", user_json(renamed, s.images)}});
}

http::response delete_me(http::request& req, const services& s) {
  // A retried deletion whose first attempt removed the account: its token
  // names nobody now, and the answer is the first one's.
  if (const auto token = bearer_token_of(req); token && req.idempotency_resumed) {
    const auto subject = s.accounts.token_subject(*token);
    if (subject && s.deletion.finished_earlier(*subject, origin_of(req, s))) return http::empty_response(204);
  }
  const auto caller = require_bearer(req, s);
  const auto body = http::parse_json_object(req);
  s.deletion.delete_account(caller.user, http::required_string(body, "password"), origin_of(req, s));
  return http::empty_response(204);
}

// Everything stored about the caller, as a file to keep. The refresh
// tokens themselves are never stored, so a session is its metadata only.
http::response export_me(http::request& req, const services& s) {
  const auto caller = require_bearer(req, s);
  const auto data = s.deletion.export_of(caller.user);
  boost::json::array sessions;
  for (const auto& f : data.sessions)
    sessions.push_back({{"id", f.family_id},
                        {"created_at", iso8601_utc(f.created_at)},
                        {"expires_at", iso8601_utc(f.expires_at)}});
  auto res = http::json_response(200, {{"exported_at", log::utc_timestamp_now()},
                                       {"user", user_json(data.user, s.images)},
                                       {"sessions", std::move(sessions)}});
  res.set_header("content-disposition", "attachment; filename=\"gatehouse-export.json\"");
  http::mark_secret(res);  // personal data: no cache keeps a copy
  return res;
}

}  // namespace

void bind_user_routes(http::router& r, const services& s) {
  r.add("GET", "/users", [&s](http::request& req) { return list_users(req, s); });
  r.add("GET", "/users/me", [&s](http::request& req) { return me(req, s); });
  r.add("PATCH", "/users/me", [&s](http::request& req) { return update_me(req, s); });
  r.add("DELETE", "/users/me", [&s](http::request& req) { return delete_me(req, s); });
  r.add("GET", "/users/me/export", [&s](http::request& req) { return export_me(req, s); });
}

}  // namespace gatehouse::api
