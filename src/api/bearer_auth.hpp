#pragma once
#include "accounts/account_service.hpp"
#include "api/services.hpp"
#include "http/request.hpp"

#include <optional>
#include <string_view>

namespace gatehouse::api {

// The one gate of every Bearer route. Takes `Authorization: Bearer <jwt>`,
// asks the account service who it names and records the user id for the
// access log. Otherwise throws 401 `unauthorized` with `WWW-Authenticate:
// Bearer`, plus `error="invalid_token"` when a token was sent but failed
// verification or names a user who no longer exists: a deleted account's
// still-unexpired token opens nothing (shared/API.md, "Bearer routes").
accounts::caller require_bearer(http::request& req, const services& s);

// The token of `Authorization: Bearer <token>`, unverified, or nullopt.
std::optional<std::string_view> bearer_token_of(const http::request& req);

}  // namespace gatehouse::api
