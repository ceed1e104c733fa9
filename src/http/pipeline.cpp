#include "http/pipeline.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"
#include "crypto/crypto.hpp"
#include "http/error_response.hpp"

#include <algorithm>
#include <chrono>

namespace gatehouse::http {

bool cors_policy::allows(std::string_view origin) const {
  return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

pipeline::pipeline(router routes, cors_policy cors, std::chrono::milliseconds request_budget)
    : routes_(std::move(routes)), cors_(std::move(cors)), request_budget_(request_budget) {}

pipeline::clock::time_point pipeline::answer_by(clock::time_point arrived,
                                                std::optional<clock::time_point> caller_gives_up) const {
  const auto own = arrived + request_budget_;
  return caller_gives_up ? std::min(own, *caller_gives_up) : own;
}

response pipeline::handle(request& req) const noexcept {
  return respond(req, [&] { return run(req); });
}

response pipeline::reject(request& req, const error& e) const noexcept {
  return respond(req, [&] { return error_response(e); });
}

template <class Produce>
response pipeline::respond(request& req, Produce&& produce) const noexcept {
  const auto start = std::chrono::steady_clock::now();
  response res;
  try {
    if (req.request_id.empty()) {
      const auto client_id = req.header("x-request-id");
      req.request_id = client_id && is_sane_request_id(*client_id) ? std::string(*client_id)
                                                                    : crypto::uuid_v4();
    }
    res = produce();
  } catch (const std::exception& e) {
    // Bugs land here: logged with the request id, their text never sent.
    log::error("unhandled exception", {{"request_id", req.request_id}, {"what", e.what()}});
    res = error_response(error(error_kind::internal, "internal", "internal error"));
  } catch (...) {
    log::error("unhandled non-standard exception", {{"request_id", req.request_id}});
    res = error_response(error(error_kind::internal, "internal", "internal error"));
  }
  try {
    res.set_header("x-request-id", req.request_id);
    add_cors_headers(req, res);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    boost::json::object fields{{"request_id", req.request_id},
                               {"method", req.method},
                               {"route", req.route.empty() ? "-" : req.route},
                               {"status", res.status},
                               {"latency_ms", static_cast<double>(micros) / 1000.0}};
    if (!req.user_id.empty()) fields["user_id"] = req.user_id;
    log::info("request", std::move(fields));
  } catch (...) {
    // Out of memory while logging: the response still goes out.
  }
  return res;
}

response answer_error(const request& req, const error& e) {
  if (e.kind() == error_kind::internal) {
    log::error("internal error", {{"request_id", req.request_id}, {"what", e.what()}});
    return error_response(error(error_kind::internal, "internal", "internal error"));
  }
  if (e.kind() == error_kind::unavailable) {
    // The cause (AWS/SQLite text, hosts) is logged, never sent.
    log::warn("storage unavailable", {{"request_id", req.request_id}, {"what", e.what()}});
    response res = error_response(
        error(error_kind::unavailable, e.code(), "the service is temporarily unavailable"));
    for (const auto& [name, value] : e.headers()) res.set_header(name, value);
    // A client may always retry a 503; tell it when.
    if (!res.header("retry-after")) res.set_header("retry-after", "1");
    return res;
  }
  return error_response(e);
}

response pipeline::run(request& req) const {
  if (req.method == "OPTIONS") return preflight(req);
  std::optional<request_deadline::scope> answer_in_time;
  if (req.deadline) {
    // Its caller has given up or is about to: nothing is started for it.
    if (clock::now() >= *req.deadline) {
      log::warn("request out of time before its handler started", {{"request_id", req.request_id}});
      return error_response(error(error_kind::unavailable, "server_busy", "the server is busy, retry shortly")
                                .with_header("retry-after", "1"));
    }
    answer_in_time.emplace(*req.deadline);
  }
  try {
    return routes_.dispatch(req);
  } catch (const error& e) {
    return answer_error(req, e);
  }
}

response pipeline::preflight(const request& req) const {
  const std::string allow = routes_.allowed_methods(req.path);
  if (allow.empty()) return error_response(error(error_kind::not_found, "not_found", "no such route"));
  response res = empty_response(204);
  res.set_header("allow", allow + ", OPTIONS");
  const auto origin = req.header("origin");
  if (origin && cors_.allows(*origin)) {
    res.set_header("access-control-allow-methods", allow + ", OPTIONS");
    res.set_header("access-control-allow-headers", "authorization, content-type, x-request-id, idempotency-key");
    res.set_header("access-control-max-age", "600");
  }
  return res;
}

void pipeline::add_cors_headers(const request& req, response& res) const {
  const auto origin = req.header("origin");
  if (!origin || !cors_.allows(*origin)) return;
  const bool any = std::find(cors_.allowed_origins.begin(), cors_.allowed_origins.end(), "*") !=
                   cors_.allowed_origins.end();
  res.set_header("access-control-allow-origin", any ? "*" : std::string(*origin));
  if (!any) res.set_header("vary", "Origin");
  res.set_header("access-control-expose-headers", "x-request-id, retry-after, www-authenticate, idempotent-replayed");
}

}  // namespace gatehouse::http
