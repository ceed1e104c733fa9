#include "api/idempotent_routes.hpp"

#include "api/bearer_auth.hpp"
#include "base/error.hpp"
#include "http/multipart.hpp"
#include "http/pipeline.hpp"

#include <string>
#include <utility>
#include <variant>

namespace gatehouse::api {
namespace {

// A key is kept per caller: the user a verified Bearer token was issued to
// (checked again by the handler; the user may be gone since, as after a
// deletion whose answer was lost), else one scope for the public routes
// (sign-up, login, refresh: their bodies name the account and the
// fingerprint covers the body). A token that does not verify gets no
// record: the handler answers 401 as it would without a key.
std::optional<std::string> scope_of(const http::request& req, const services& s) {
  const auto token = bearer_token_of(req);
  if (!token) return std::string("public");
  const auto subject = s.accounts.token_subject(*token);
  if (!subject) return std::nullopt;
  return "user:" + *subject;
}

// What the request asks, for the fingerprint. A multipart body's boundary
// is framing each send chooses afresh (a browser retrying one FormData
// picks a new one), so it is taken out of a copy; any other body counts as
// sent, uncopied (nullopt: use the body itself).
std::optional<std::string> without_boundary(const http::request& req) {
  const auto type = req.header("content-type");
  const auto boundary = type ? http::multipart_boundary(*type) : std::nullopt;
  if (!boundary || boundary->empty()) return std::nullopt;
  std::string out;
  out.reserve(req.body.size());
  std::size_t from = 0;
  for (auto at = req.body.find(*boundary); at != std::string::npos; at = req.body.find(*boundary, from)) {
    out.append(req.body, from, at - from);
    from = at + boundary->size();
  }
  out.append(req.body, from);
  return out;
}

http::response replay(idempotency::answer kept) {
  http::response res;
  res.status = kept.status;
  res.headers = std::move(kept.headers);
  res.body = std::move(kept.body);
  res.set_header("idempotent-replayed", "true");
  return res;
}

error refused(idempotency::refusal why) {
  if (why == idempotency::refusal::key_reused)
    return error(error_kind::unprocessable, "idempotency_key_reused",
                 "this Idempotency-Key was used for another request");
  return error(error_kind::conflict, "request_in_progress",
               "a request with this Idempotency-Key is still being processed")
      .with_header("retry-after", "1");
}

http::response run(http::request& req, const http::handler& inner, const services& s) {
  const auto key = req.header("idempotency-key");
  if (!key) return inner(req);
  if (!idempotency::is_valid_key(*key))
    throw error(error_kind::invalid_argument, "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters");
  const auto scope = scope_of(req, s);
  if (!scope) return inner(req);

  std::string target = req.path;
  if (!req.query.empty()) target += "?" + req.query;
  const auto framed = without_boundary(req);
  auto begun = s.idempotency.begin({*scope, *key, req.method, target, framed ? *framed : req.body});
  if (auto* kept = std::get_if<idempotency::answer>(&begun)) return replay(std::move(*kept));
  if (auto* why = std::get_if<idempotency::refusal>(&begun)) throw refused(*why);

  const auto& attempt = std::get<idempotency::attempt>(begun);
  req.idempotency_seed = attempt.seed;
  req.idempotency_resumed = attempt.may_have_run_before;
  http::response res;
  try {
    res = inner(req);
  } catch (const error& e) {
    res = http::answer_error(req, e);
  } catch (...) {
    s.idempotency.abandon(attempt);
    throw;
  }
  s.idempotency.finish(attempt, {res.status, res.headers, res.body});
  return res;
}

}  // namespace

http::handler idempotent(http::handler inner, const services& s) {
  return [inner = std::move(inner), &s](http::request& req) { return run(req, inner, s); };
}

}  // namespace gatehouse::api
