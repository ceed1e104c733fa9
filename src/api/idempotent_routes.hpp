#pragma once
// `Idempotency-Key` (shared/API.md, Conventions) on every route that
// changes state: make_router wraps each POST, PATCH and DELETE handler in
// `idempotent`, so no route can forget it and none handles it itself.
#include "api/services.hpp"
#include "http/router.hpp"

namespace gatehouse::api {

// Runs `inner` through s.idempotency when the request has a key: the first
// final answer is kept and given again (with `Idempotent-Replayed: true`);
// the same key with another request is 422 idempotency_key_reused; while
// an attempt runs, 409 request_in_progress. A malformed key is 400
// invalid_idempotency_key. Without a key, `inner` runs as it is.
http::handler idempotent(http::handler inner, const services& s);

}  // namespace gatehouse::api
