#pragma once
// What every request goes through, whichever front end received it:
// request id, CORS, the router, the error boundary and the access log.
// Front ends call `handle` and never see an exception.
#include "base/error.hpp"
#include "http/router.hpp"

#include <chrono>
#include <optional>
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

// How long a request may take from its arrival to its answer unless its
// caller gives up sooner: under API Gateway's 30 s and the local server's
// 30 s shutdown grace (REQUEST_TIMEOUT_MS).
inline constexpr std::chrono::milliseconds default_request_budget{25000};

class pipeline {
 public:
  using clock = std::chrono::steady_clock;

  pipeline(router routes, cors_policy cors, std::chrono::milliseconds request_budget = default_request_budget);

  // The deadline for a request that arrived at `arrived`: its budget later,
  // or when its caller gives up if the front end knows that and it is
  // sooner (Lambda). Front ends put it in request::deadline.
  clock::time_point answer_by(clock::time_point arrived,
                              std::optional<clock::time_point> caller_gives_up = std::nullopt) const;

  // Never throws. Keeps a request id the front end already set, else
  // takes the client's sane `x-request-id`, else makes a fresh one. Runs
  // the handler under req.deadline; a request whose deadline passed before
  // its handler could start (it waited in a queue) gets 503 server_busy.
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
  std::chrono::milliseconds request_budget_;
};

}  // namespace gatehouse::http
