#include "lambda/runtime_loop.hpp"

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "http/error_response.hpp"
#include "lambda/event_codec.hpp"

#include <chrono>
#include <exception>
#include <string>

namespace gatehouse::lambda {
namespace {

constexpr int exit_runtime_api_gone = 1;

// The last resort when even building the 500 failed (out of memory): a
// fixed document in the contract's error shape.
constexpr const char* fallback_internal_error =
    R"({"statusCode":500,"headers":{"content-type":"application/json; charset=utf-8"},)"
    R"("body":"{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}","isBase64Encoded":false})";

using steady = std::chrono::steady_clock;

std::string internal_error_document(const std::string& request_id, payload_version version) {
  http::response res = http::error_response(error(error_kind::internal, "internal", "internal error"));
  if (!request_id.empty()) res.set_header("x-request-id", request_id);
  return encode_response(res, version);
}

std::string answer(const http::pipeline& app, const invocation& inv, http::request& req,
                   payload_version& version) {
  decoded_event decoded;
  try {
    decoded = decode_event(inv.event);
  } catch (const error& e) {
    // No request id from the event: Lambda's own id correlates the log
    // line with the platform's REPORT line.
    req.request_id = inv.request_id;
    log::warn("invalid event", {{"request_id", req.request_id}, {"what", e.what()}});
    return encode_response(app.reject(req, e), version);
  }
  version = decoded.version;
  req = std::move(decoded.request);
  const auto now = steady::now();
  req.deadline = app.answer_by(now, answer_deadline(inv, now, system_now_ms()));

  // The same limits the Beast session applies before it reads a body.
  const auto* route = app.routes().options_for(req.method, req.path);
  const std::size_t limit = route ? route->max_body : http::default_json_body_limit;
  if (req.body.size() > limit)
    return encode_response(
        app.reject(req, error(error_kind::payload_too_large, "payload_too_large",
                              "the body is limited to " + std::to_string(limit) + " bytes")),
        version);
  return encode_response(app.handle(req), version);
}

}  // namespace

std::optional<std::chrono::steady_clock::time_point> answer_deadline(const invocation& inv,
                                                                     std::chrono::steady_clock::time_point now,
                                                                     std::chrono::milliseconds unix_now) {
  if (inv.deadline_ms <= 0) return std::nullopt;
  const std::chrono::milliseconds left{inv.deadline_ms - unix_now.count()};
  return now + left - answer_margin;
}

std::string handle_invocation(const http::pipeline& app, const invocation& inv) noexcept {
  payload_version version = payload_version::v2;
  http::request req;
  try {
    return answer(app, inv, req, version);
  } catch (const std::exception& e) {
    log::error("invocation failed", {{"request_id", req.request_id.empty() ? inv.request_id : req.request_id},
                                     {"aws_request_id", inv.request_id},
                                     {"what", e.what()}});
  } catch (...) {
    log::error("invocation failed with a non-standard exception", {{"aws_request_id", inv.request_id}});
  }
  try {
    return internal_error_document(req.request_id.empty() ? inv.request_id : req.request_id, version);
  } catch (...) {
    return fallback_internal_error;
  }
}

int run_runtime_loop(const http::pipeline& app, runtime_client& rt) {
  for (;;) {
    try {
      const invocation inv = rt.next();
      rt.respond(inv.request_id, handle_invocation(app, inv));
    } catch (const runtime_api_error& e) {
      log::error("runtime API unreachable, exiting", {{"what", e.what()}});
      return exit_runtime_api_gone;
    } catch (const std::exception& e) {
      // Out of memory between next() and respond(): that invocation times
      // out, the sandbox keeps serving.
      log::error("runtime loop iteration failed", {{"what", e.what()}});
    }
  }
}

}  // namespace gatehouse::lambda
