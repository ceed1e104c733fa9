#pragma once
// The Lambda Runtime API (2018-06-01) over one plain HTTP/1.1 keep-alive
// connection to AWS_LAMBDA_RUNTIME_API. Transient failures are retried.
#include "lambda/runtime_reply.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::lambda {

// The Runtime API stayed unreachable (or kept answering 5xx) through every
// retry. Lambda expects the process to exit then; nothing else can help.
struct runtime_api_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct runtime_client_options {
  // Attempts per call (the first included) on connection failures and
  // 5xx answers, with exponential backoff between them.
  int max_attempts = 6;
  std::chrono::milliseconds first_backoff{20};
  std::chrono::milliseconds max_backoff{500};
  std::chrono::milliseconds connect_timeout{2000};
  // Posts only: GET /next long-polls and never times out.
  std::chrono::milliseconds post_timeout{10000};
  // Lambda caps an invocation payload at 6 MB; anything larger is refused
  // before it is buffered.
  std::size_t max_event_bytes = 7 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
};

class runtime_client {
 public:
  // `api` is host:port, as AWS_LAMBDA_RUNTIME_API gives it ("[::1]:9001"
  // for IPv6). Throws std::invalid_argument when it is not. Connects on
  // first use.
  explicit runtime_client(std::string api, runtime_client_options options = {});
  ~runtime_client();
  runtime_client(const runtime_client&) = delete;
  runtime_client& operator=(const runtime_client&) = delete;

  // GET /2018-06-01/runtime/invocation/next (long poll). The invocation
  // carries its trace id; the process environment is never written (a
  // setenv would race with the resolver's getenv). An event over max_event_bytes is
  // answered with an error post and the next one is fetched. Throws
  // runtime_api_error once retries are exhausted.
  invocation next();

  // POST .../invocation/{id}/response and .../invocation/{id}/error. A 4xx
  // answer (the invocation is gone, the response is too large) is logged,
  // not retried; transport failures and 5xx are retried, then throw
  // runtime_api_error.
  void respond(const std::string& request_id, const std::string& body);
  void fail(const std::string& request_id, std::string_view error_type, std::string_view message);
  // POST /2018-06-01/runtime/init/error; the caller exits afterwards.
  void init_error(std::string_view error_type, std::string_view message);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gatehouse::lambda
