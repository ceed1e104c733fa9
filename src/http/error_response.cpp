#include "http/error_response.hpp"

#include <boost/json/object.hpp>

namespace gatehouse::http {

int status_of(error_kind kind) {
  switch (kind) {
    case error_kind::invalid_argument: return 400;
    case error_kind::unauthenticated: return 401;
    case error_kind::permission_denied: return 403;
    case error_kind::not_found: return 404;
    case error_kind::method_not_allowed: return 405;
    case error_kind::already_exists: return 409;
    case error_kind::conflict: return 409;
    case error_kind::unprocessable: return 422;
    case error_kind::payload_too_large: return 413;
    case error_kind::header_fields_too_large: return 431;
    case error_kind::unsupported_media_type: return 415;
    case error_kind::resource_exhausted: return 429;
    case error_kind::unavailable: return 503;
    case error_kind::internal: return 500;
  }
  return 500;
}

response error_response(const error& e) {
  boost::json::object detail;
  detail["code"] = e.code();
  detail["message"] = e.what();
  if (!e.field().empty()) detail["field"] = e.field();
  boost::json::object body;
  body["error"] = std::move(detail);
  response res = json_response(status_of(e.kind()), body);
  for (const auto& [name, value] : e.headers()) res.set_header(name, value);
  return res;
}

}  // namespace gatehouse::http
