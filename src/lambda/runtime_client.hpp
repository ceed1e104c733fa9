#pragma once
// The Lambda Runtime API (2018-06-01) over one plain HTTP/1.1 keep-alive
// connection to AWS_LAMBDA_RUNTIME_API. Transient failures are retried.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::lambda {

struct invocation {
  std::string request_id;     // Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms (unix ms)
  std::string function_arn;   // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;       // Lambda-Runtime-Trace-Id
  std::string event;          // the body
};

class runtime_client {
 public:
  // `api` is host:port, as AWS_LAMBDA_RUNTIME_API gives it.
  explicit runtime_client(std::string api);
  ~runtime_client();

  invocation next();  // GET /2018-06-01/runtime/invocation/next (long poll)
  void respond(const std::string& request_id, const std::string& body);
  void fail(const std::string& request_id, std::string_view error_type, std::string_view message);
  void init_error(std::string_view error_type, std::string_view message);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gatehouse::lambda
