#pragma once
// The transport-neutral request: what the Beast server and the Lambda
// event codec both produce, and all that handlers ever see.
#include "base/text.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::http {

struct request {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // the raw path, without the query string
  std::string query;   // the raw query string, without '?'
  // Header names are lower case; repeated headers keep their order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string source_ip;
  // When the answer must be ready (the front end sets it through
  // pipeline::answer_by); the pipeline holds every backend wait of the
  // handler to it (base/request_deadline). None: no bound but the
  // configured timeouts.
  std::optional<std::chrono::steady_clock::time_point> deadline;

  // Filled by the pipeline and the router on the way in.
  std::string request_id;
  std::string route;  // the matched pattern, e.g. "/users/me", for logs
  std::map<std::string, std::string, std::less<>> path_params;
  std::string user_id;  // set once a bearer token is verified, for logs
  // Set when an Idempotency-Key's record runs this request (api/idempotent_routes):
  // the record's seed, and whether an earlier attempt of it may have written.
  std::string idempotency_seed;
  bool idempotency_resumed = false;

  // The first value of a header (name in lower case), or nullopt.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // The first value of a query parameter, percent-decoded, or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;
};

// Percent-decodes `text` ('+' becomes a space when `plus_is_space`);
// nullopt when an escape is malformed. The one decoder, from base.
using text::percent_decode;

}  // namespace gatehouse::http
