#pragma once
#include "api/services.hpp"
#include "http/request.hpp"

namespace gatehouse::api {

// Verifies the request's `Authorization: Bearer <jwt>` and returns its
// claims, recording the user id for the access log. Otherwise throws 401
// `unauthorized` with `WWW-Authenticate: Bearer` (plus
// `error="invalid_token"` when a token was sent but failed verification).
auth::access_claims require_bearer(http::request& req, const services& s);

}  // namespace gatehouse::api
