#pragma once
// What every request goes through, whichever front end received it:
// request id, CORS, the router, the error boundary and the access log.
// Front ends call `handle` and never see an exception.
#include "base/error.hpp"
#include "http/router.hpp"

#include <string>
#include <vector>

namespace gatehouse::http {

struct cors_policy {
  // "*" allows any origin; otherwise exact origins ("https://app.example").
  std::vector<std::string> allowed_origins{"*"};
  bool allows(std::string_view origin) const;
};

// 1..128 characters of [A-Za-z0-9._-]: safe to echo in headers and logs.
bool is_sane_request_id(std::string_view id);

// The answer to an error a handler threw: its own status and body, except
// that internal errors and unavailable storage are logged with their cause
// and answered without it (a 503 always with Retry-After).
response answer_error(const request& req, const error& e);

class pipeline {
 public:
  pipeline(router routes, cors_policy cors);

  // Never throws. Keeps a request id the front end already set, else
  // takes the client's sane `x-request-id`, else makes a fresh one.
  response handle(request& req) const noexcept;

  // For requests a front end refused before routing (malformed, too
  // large): the same request id, CORS and access log, answering `e`.
  response reject(request& req, const error& e) const noexcept;

  const router& routes() const { return routes_; }

 private:
  template <class Produce>
  response respond(request& req, Produce&& produce) const noexcept;
  response run(request& req) const;
  response preflight(const request& req) const;
  void add_cors_headers(const request& req, response& res) const;

  router routes_;
  cors_policy cors_;
};

}  // namespace gatehouse::http
