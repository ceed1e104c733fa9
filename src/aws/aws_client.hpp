#pragma once
// Signed requests with retries: what the DynamoDB, S3 and Secrets
// Manager clients are built on. Each attempt is signed afresh.
#include "aws/credentials.hpp"
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace gatehouse::aws {

struct retry_policy {
  int max_attempts = 4;
  std::chrono::milliseconds base_delay{25};
  std::chrono::milliseconds max_delay{1000};
  // No attempt starts after this much time since the first.
  std::chrono::milliseconds total_budget{8000};
  // Nor with less than this left before the request's deadline
  // (base/request_deadline): too little for a round trip to be worth it.
  std::chrono::milliseconds min_attempt_time{100};
};

// Throttling error codes of DynamoDB, S3 and the common set.
bool is_throttling_code(std::string_view aws_error_code);
// Throttling, 429 and 5xx are retried; every other 4xx (a conditional
// check failure included) is final.
bool is_retryable(int status, std::string_view aws_error_code);
// Capped exponential backoff with full jitter: uniform in [0, min(max, base * 2^(attempt-1))].
std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt);

class aws_client {
 public:
  using error_code_reader = std::function<std::string(const http_response&)>;
  using sleeper = std::function<void(std::chrono::milliseconds)>;

  aws_client(http_client& http, credentials_provider& creds, retry_policy policy = {},
             std::function<std::int64_t()> now_seconds = {}, sleeper sleep = {});

  // Signs and sends `req`, retrying transport errors and retryable
  // responses. Returns the last response, which may be a final 4xx for
  // the caller to interpret. Throws storage_unavailable (503) when the
  // retries or the budget run out on retryable failures, or when the
  // request's deadline leaves no time for an attempt (then before sending
  // anything). Each attempt ends by the deadline (http_client::send).
  http_response send(const endpoint& ep, const sigv4::scope& sc, const http_request& req,
                     const sigv4::options& opts, const error_code_reader& error_code_of);

  credentials_provider& credentials() { return creds_; }

 private:
  http_client& http_;
  credentials_provider& creds_;
  retry_policy policy_;
  std::function<std::int64_t()> now_seconds_;
  sleeper sleep_;
};

}  // namespace gatehouse::aws
