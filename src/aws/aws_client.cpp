#include "aws/aws_client.hpp"

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <thread>

namespace gatehouse::aws {
namespace {

using steady = std::chrono::steady_clock;

// The codes AWS documents as "slow down" for the services Gatehouse calls
// (DynamoDB, S3, Secrets Manager) and the common set the SDKs share.
// Deliberately absent: LimitExceededException, which DynamoDB raises for
// control-plane quotas (concurrent table operations, the account's table
// quota) that an immediate retry does not cure and the data path never
// meets, and TransactionInProgressException (no transactions here).
constexpr std::array<std::string_view, 9> throttling_codes = {
    "ProvisionedThroughputExceededException",  // DynamoDB: table or index throughput
    "RequestLimitExceeded",                    // DynamoDB: account throughput
    "ThrottlingException",                     // DynamoDB control plane, Secrets Manager
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "SlowDown",  // S3 (503)
    "RequestThrottled",
    "RequestThrottledException",
};

// Error codes come from response bodies: bounded before they reach a log line.
constexpr std::size_t max_logged_code = 128;

std::mt19937_64& jitter_rng() {
  // One generator per thread, seeded from OpenSSL's CSPRNG: no lock, and
  // no dependence on how std::random_device is implemented.
  thread_local std::mt19937_64 rng = [] {
    const std::string seed_bytes = crypto::random_bytes(sizeof(std::uint64_t));
    std::uint64_t seed = 0;
    std::memcpy(&seed, seed_bytes.data(), sizeof seed);
    return std::mt19937_64(seed);
  }();
  return rng;
}

}  // namespace

bool is_throttling_code(std::string_view aws_error_code) {
  return std::find(throttling_codes.begin(), throttling_codes.end(), aws_error_code) !=
         throttling_codes.end();
}

bool is_retryable(int status, std::string_view aws_error_code) {
  if (status < 400) return false;
  if (status == 429 || is_throttling_code(aws_error_code)) return true;
  // 501 Not Implemented is the one 5xx that no retry can change.
  return status >= 500 && status <= 599 && status != 501;
}

std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt) {
  const std::int64_t cap = std::max<std::int64_t>(policy.max_delay.count(), 0);
  std::int64_t ceiling = std::min<std::int64_t>(std::max<std::int64_t>(policy.base_delay.count(), 0), cap);
  for (int i = 1; i < attempt && ceiling < cap; ++i) ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling);
  return std::chrono::milliseconds(pick(jitter_rng()));
}

aws_client::aws_client(http_client& http, credentials_provider& creds, retry_policy policy,
                       std::function<std::int64_t()> now_seconds, sleeper sleep)
    : http_(http),
      creds_(creds),
      policy_(policy),
      now_seconds_(now_seconds ? std::move(now_seconds) : std::function<std::int64_t()>(system_now_seconds)),
      sleep_(sleep ? std::move(sleep)
                   : sleeper([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })) {}

http_response aws_client::send(const endpoint& ep, const sigv4::scope& sc, const http_request& req,
                               const sigv4::options& opts, const error_code_reader& error_code_of) {
  // The signature must cover the path as it goes on the wire, so a custom
  // endpoint's base path is joined here, before signing, and the client
  // is given an endpoint without one.
  endpoint wire = ep;
  wire.base_path.clear();
  const std::string authority = ep.authority();

  const auto started = steady::now();
  const int max_attempts = std::max(1, policy_.max_attempts);
  int status = 0;
  std::string code;
  std::string failure;
  int attempt = 1;
  for (;; ++attempt) {
    // Nothing is sent that could not be answered before the caller gives
    // up: the request answers 503 now, not after its deadline.
    if (request_deadline::remaining() < policy_.min_attempt_time) {
      log::warn("aws request out of time", {{"host", ep.host}, {"attempt", attempt}});
      throw storage_unavailable("request to " + ep.host + ": no time left for attempt " + std::to_string(attempt) +
                                " before the request's deadline")
          .with_header("retry-after", "1");
    }
    status = 0;
    code.clear();
    failure.clear();

    // Signed afresh each time: a new x-amz-date, and credentials that may
    // have been refreshed since the last attempt.
    http_request signed_req = req;
    signed_req.path = ep.base_path + req.path;
    signed_req.set_header("Host", authority);
    sigv4::sign_request(signed_req, creds_.get(), sc, now_seconds_(), opts);

    try {
      http_response res = http_.send(wire, signed_req);
      if (res.status >= 400 && error_code_of) code = error_code_of(res);
      if (!is_retryable(res.status, code)) return res;
      status = res.status;
      if (code.size() > max_logged_code) code.resize(max_logged_code);
    } catch (const transport_error& e) {
      failure = e.what();
    }

    if (attempt >= max_attempts) break;
    const auto delay = backoff_delay(policy_, attempt);
    if (steady::now() + delay - started > policy_.total_budget) break;
    if (request_deadline::remaining() < delay + policy_.min_attempt_time) break;

    boost::json::object fields{{"host", ep.host}, {"attempt", attempt}, {"delay_ms", delay.count()}};
    if (failure.empty()) {
      fields["status"] = status;
      fields["aws_error"] = code;
    } else {
      fields["error"] = failure;
    }
    log::warn("aws request retried", std::move(fields));
    sleep_(delay);
  }

  boost::json::object fields{{"host", ep.host}, {"attempts", attempt}};
  std::string why;
  if (failure.empty()) {
    fields["status"] = status;
    fields["aws_error"] = code;
    why = "status " + std::to_string(status) + (code.empty() ? "" : " " + code);
  } else {
    fields["error"] = failure;
    why = failure;
  }
  log::warn("aws request gave up", std::move(fields));
  throw storage_unavailable("request to " + ep.host + " failed after " + std::to_string(attempt) +
                            " attempt(s): " + why)
      .with_header("retry-after", "1");
}

}  // namespace gatehouse::aws
