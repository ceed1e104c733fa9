#pragma once
// Reading the Runtime API's answers: the limits every reply is parsed
// under, and what a 200 answer to GET /invocation/next carries. Kept apart
// from the connection handling so the fuzzer (tests/fuzz/runtime_reply_fuzz)
// drives exactly the code the client runs.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace gatehouse::lambda {

struct invocation {
  std::string request_id;     // Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms (unix ms)
  std::string function_arn;   // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;       // Lambda-Runtime-Trace-Id
  std::string event;          // the body
};

using reply_parser = boost::beast::http::response_parser<boost::beast::http::string_body>;

// Bounds the head and the body before a byte is read, so an oversized
// reply is refused (http::error::header_limit / body_limit) unbuffered.
void limit_reply(reply_parser& parser, std::size_t max_header_bytes, std::size_t max_body_bytes);

// The request id of a reply whose head has been read, or "" when there is
// none or it is not safe to put in a URL path and in logs.
std::string reply_request_id(const reply_parser& parser);

// The invocation in a complete 200 reply to GET /next; moves the body out.
// nullopt when the request id is unusable (the client cannot even report
// the failure). A missing or malformed deadline reads as 0.
std::optional<invocation> invocation_of(reply_parser& parser);

}  // namespace gatehouse::lambda
