#pragma once
// API Gateway and Lambda Function URL events <-> the transport-neutral
// Request/Response. Payload 2.0 (HTTP API, Function URLs) and payload 1.0
// (REST API proxy integration).
#include "http/request.hpp"
#include "http/response.hpp"

#include <string>
#include <string_view>

namespace gatehouse::lambda {

enum class payload_version { v1, v2 };

struct decoded_event {
  http::request request;  // request_id set from requestContext.requestId
  payload_version version = payload_version::v2;
};

// Decodes one event. Total: any bytes give a request or throw
// gatehouse::error(invalid_argument, "invalid_event"). Base64 bodies are
// decoded; header names are lower-cased; 2.0 cookies become a Cookie header.
decoded_event decode_event(std::string_view event_json);

// The response document the event's payload version expects: statusCode,
// headers, body (base64 with isBase64Encoded when it is not valid UTF-8
// text), cookies for 2.0 Set-Cookie headers / multiValueHeaders for 1.0.
std::string encode_response(const http::response& res, payload_version version);

}  // namespace gatehouse::lambda
