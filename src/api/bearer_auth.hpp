#pragma once
#include "api/services.hpp"
#include "http/request.hpp"
#include "users/user.hpp"

namespace gatehouse::api {

// Who a Bearer request comes from: the verified claims, and the user they
// name as the store has it now. Derived from the claims so a handler reads
// `caller.user_id` either way.
struct bearer_caller : auth::access_claims {
  users::user user;
};

// The one gate of every Bearer route. Verifies `Authorization: Bearer <jwt>`,
// loads the user it names and records the user id for the access log.
// Otherwise throws 401 `unauthorized` with `WWW-Authenticate: Bearer`, plus
// `error="invalid_token"` when a token was sent but failed verification or
// names a user who no longer exists: a deleted account's still-unexpired
// token opens nothing (shared/API.md, "Bearer routes").
bearer_caller require_bearer(http::request& req, const services& s);

}  // namespace gatehouse::api
