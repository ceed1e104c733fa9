#include "api/bearer_auth.hpp"

#include "base/error.hpp"
#include "base/text.hpp"

namespace gatehouse::api {
namespace {
bool starts_with_bearer(std::string_view v) { return text::ascii_istarts_with(v, "bearer "); }

error invalid_token(std::string_view why) {
  return error(error_kind::unauthenticated, "unauthorized", std::string(why))
      .with_header("www-authenticate", "Bearer error=\"invalid_token\"");
}
}  // namespace

std::optional<std::string_view> bearer_token_of(const http::request& req) {
  const auto header = req.header("authorization");
  if (!header || !starts_with_bearer(*header)) return std::nullopt;
  std::string_view token = header->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

accounts::caller require_bearer(http::request& req, const services& s) {
  const auto token = bearer_token_of(req);
  if (!token)
    throw error(error_kind::unauthenticated, "unauthorized", "a bearer token is required")
        .with_header("www-authenticate", "Bearer");
  auto caller = s.accounts.authenticate(*token);
  if (!caller) throw invalid_token("the bearer token is invalid or expired");
  req.user_id = caller->user_id;
  return std::move(*caller);
}

}  // namespace gatehouse::api
