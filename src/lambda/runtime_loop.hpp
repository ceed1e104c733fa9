#pragma once
// The Lambda front end: fetch an invocation, turn its event into a
// Request, run it through the pipeline, answer. The Beast session's
// counterpart, single-threaded as Lambda runs one invocation at a time
// per sandbox.
#include "http/pipeline.hpp"
#include "lambda/runtime_client.hpp"

namespace gatehouse::lambda {

// Serves invocations until the Runtime API stays unreachable; returns the
// process exit code then (non-zero). Nothing an event or a handler does
// ends the loop: a malformed event gets a 400 JSON error, anything
// unexpected a 500 JSON error carrying the request id.
int run_runtime_loop(const http::pipeline& app, runtime_client& rt);

// One invocation's answer: the response document for its payload version.
// Never throws. Exposed for tests.
std::string handle_invocation(const http::pipeline& app, const invocation& inv) noexcept;

}  // namespace gatehouse::lambda
