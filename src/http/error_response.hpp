#pragma once
#include "base/error.hpp"
#include "http/response.hpp"

namespace gatehouse::http {

// The one mapping from an error to its HTTP status and JSON body:
// {"error": {"code", "message", "field"?}}.
int status_of(error_kind kind);
response error_response(const error& e);

}  // namespace gatehouse::http
