#pragma once
// The Lambda front end: fetch an invocation, turn its event into a
// Request, run it through the pipeline, answer. The Beast session's
// counterpart, single-threaded as Lambda runs one invocation at a time
// per sandbox.
#include "http/pipeline.hpp"
#include "lambda/runtime_client.hpp"

#include <chrono>
#include <optional>

namespace gatehouse::lambda {

// Serves invocations until the Runtime API stays unreachable; returns the
// process exit code then (non-zero). Nothing an event or a handler does
// ends the loop: a malformed event gets a 400 JSON error, anything
// unexpected a 500 JSON error carrying the request id.
int run_runtime_loop(const http::pipeline& app, runtime_client& rt);

// What an answer needs after the handler returns: encoding it and posting
// it to the Runtime API on loopback take milliseconds; the rest is slack
// for CPU work a handler does after its last backend call (a bcrypt hash
// on a small share of a core). Lambda kills the sandbox at its deadline.
inline constexpr std::chrono::milliseconds answer_margin{500};

// When the handler of `inv` must be done (steady clock): the Runtime API's
// Lambda-Runtime-Deadline-Ms (unix ms, read against `unix_now`) less
// answer_margin; nullopt when the invocation came without one. Exposed for
// tests.
std::optional<std::chrono::steady_clock::time_point> answer_deadline(const invocation& inv,
                                                                     std::chrono::steady_clock::time_point now,
                                                                     std::chrono::milliseconds unix_now);

// One invocation's answer: the response document for its payload version,
// with the handler held to answer_deadline (and the pipeline's budget).
// Never throws. Exposed for tests.
std::string handle_invocation(const http::pipeline& app, const invocation& inv) noexcept;

}  // namespace gatehouse::lambda
