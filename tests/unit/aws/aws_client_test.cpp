// Signed requests with retries, against an in-process server that scripts
// its answers on real loopback sockets.
#include "aws/aws_client.hpp"

#include "base/error.hpp"
#include "base/request_deadline.hpp"
#include "support_test_server.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::aws {
namespace {

using std::chrono::milliseconds;
using testing::received_request;
using testing::scripted_reply;
using testing::test_server;

constexpr std::int64_t fixed_time = 1700000000;  // 2023-11-14T22:13:20Z

class static_credentials : public credentials_provider {
 public:
  credentials get() override {
    ++calls;
    return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-value", std::nullopt};
  }
  std::atomic<int> calls{0};
};

// DynamoDB names its error in "__type", after the '#'.
std::string dynamodb_error_code(const http_response& res) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(res.body, ec);
  if (ec || !value.is_object()) return {};
  const auto* type = value.as_object().if_contains("__type");
  if (type == nullptr || !type->is_string()) return {};
  const std::string text(type->as_string());
  const auto hash = text.rfind('#');
  return hash == std::string::npos ? text : text.substr(hash + 1);
}

// S3 names it in <Code> of its XML error document.
std::string s3_error_code(const http_response& res) {
  const auto open = res.body.find("<Code>");
  if (open == std::string::npos) return {};
  const auto close = res.body.find("</Code>", open);
  if (close == std::string::npos) return {};
  return res.body.substr(open + 6, close - open - 6);
}

scripted_reply reply(int status, std::string body = {}) {
  scripted_reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

scripted_reply dynamodb_error(int status, const std::string& type) {
  auto r = reply(status, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":"m"})");
  r.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  return r;
}

// Serves the scripted replies in order, the last one from then on.
test_server::script in_order(std::vector<scripted_reply> replies) {
  auto next = std::make_shared<std::size_t>(0);
  return [replies = std::move(replies), next](const received_request&) {
    const auto i = std::min(*next, replies.size() - 1);
    ++*next;
    return replies[i];
  };
}

endpoint local(const test_server& server) {
  endpoint ep;
  ep.tls = false;
  ep.host = "127.0.0.1";
  ep.port = server.port();
  ep.is_custom = true;
  return ep;
}

http_request dynamodb_request() {
  http_request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"X-Amz-Target", "DynamoDB_20120810.GetItem"},
                 {"Content-Type", "application/x-amz-json-1.0"}};
  req.body = R"({"TableName":"Users","Key":{"userId":{"S":"u1"}}})";
  return req;
}

const sigv4::scope dynamodb_scope{"us-east-1", "dynamodb"};
const sigv4::scope s3_scope{"us-east-1", "s3"};

// A client whose sleeps are recorded instead of slept.
struct fixture {
  explicit fixture(retry_policy p = {}) : policy(p) {}
  retry_policy policy;
  http_client http;
  static_credentials creds;
  std::atomic<std::int64_t> clock{fixed_time};
  std::mutex sleeps_mutex;
  std::vector<milliseconds> sleeps;
  aws_client client{http, creds, policy, [this] { return clock++; },
                    [this](milliseconds d) {
                      std::lock_guard lock(sleeps_mutex);
                      sleeps.push_back(d);
                    }};
};

// What the send threw, as the API would see it.
struct thrown {
  bool threw = false;
  error_kind kind{};
  std::string code;
  error::header_list headers;
};

template <class F>
thrown storage_error_of(F&& call) {
  thrown t;
  try {
    call();
  } catch (const error& e) {
    t.threw = true;
    t.kind = e.kind();
    t.code = e.code();
    t.headers = e.headers();
  }
  return t;
}

void expect_storage_unavailable_with_retry_after(const thrown& t) {
  ASSERT_TRUE(t.threw);
  EXPECT_EQ(t.kind, error_kind::unavailable);
  EXPECT_EQ(t.code, "storage_unavailable");
  EXPECT_EQ(t.headers, (error::header_list{{"retry-after", "1"}}));
}

TEST(aws_client, server_errors_are_retried_until_success) {
  test_server server(in_order({reply(500), reply(500), reply(200, "{}")}));
  fixture f;
  const auto res = f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "{}");
  EXPECT_EQ(server.requests().size(), 3u);
  ASSERT_EQ(f.sleeps.size(), 2u);
  EXPECT_LE(f.sleeps[0], f.policy.base_delay);      // attempt 1: [0, base]
  EXPECT_LE(f.sleeps[1], 2 * f.policy.base_delay);  // attempt 2: [0, 2 base]
  for (auto d : f.sleeps) EXPECT_LE(d, f.policy.max_delay);
}

TEST(aws_client, dynamodb_throughput_exceeded_is_retried_then_succeeds) {
  test_server server(
      in_order({dynamodb_error(400, "ProvisionedThroughputExceededException"), reply(200, "{}")}));
  fixture f;
  const auto res = f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(f.sleeps.size(), 1u);
}

TEST(aws_client, conditional_check_failure_is_returned_after_one_attempt) {
  test_server server(in_order({dynamodb_error(400, "ConditionalCheckFailedException"), reply(200)}));
  fixture f;
  const auto res = f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(dynamodb_error_code(res), "ConditionalCheckFailedException");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(aws_client, forbidden_is_returned_after_one_attempt) {
  test_server server(in_order({reply(403, "<Error><Code>AccessDenied</Code></Error>"), reply(200)}));
  fixture f;
  http_request req;
  req.path = "/bucket/key";
  const auto res = f.client.send(local(server), s3_scope, req, {.s3_paths = true}, s3_error_code);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(aws_client, s3_slow_down_is_retried_then_succeeds) {
  test_server server(in_order({reply(503, "<Error><Code>SlowDown</Code></Error>"), reply(200, "done")}));
  fixture f;
  http_request req;
  req.method = "GET";
  req.path = "/bucket/key";
  const auto res = f.client.send(local(server), s3_scope, req, {.s3_paths = true}, s3_error_code);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "done");
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(aws_client, always_unavailable_gives_storage_unavailable_with_retry_after_after_max_attempts) {
  test_server server(in_order({reply(503)}));
  fixture f;
  const auto t = storage_error_of(
      [&] { f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(f.policy.max_attempts));
  EXPECT_EQ(f.sleeps.size(), static_cast<std::size_t>(f.policy.max_attempts - 1));
}

TEST(aws_client, a_dropped_connection_is_retried_then_succeeds) {
  auto dropped = reply(200);
  dropped.then = scripted_reply::then_what::close_without_reply;
  test_server server(in_order({dropped, reply(200, "{}")}));
  fixture f;
  const auto res = f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(f.sleeps.size(), 1u);
}

TEST(aws_client, an_unreachable_endpoint_gives_storage_unavailable) {
  endpoint ep;
  {
    test_server gone(in_order({reply(200)}));
    ep = local(gone);
  }  // stopped: nothing listens on its port any more
  fixture f;
  const auto t = storage_error_of(
      [&] { f.client.send(ep, dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_EQ(f.sleeps.size(), static_cast<std::size_t>(f.policy.max_attempts - 1));
}

TEST(aws_client, a_spent_budget_stops_retries) {
  test_server server(in_order({reply(500)}));
  retry_policy policy;
  policy.max_attempts = 10;
  policy.total_budget = milliseconds(0);
  fixture f(policy);
  const auto t = storage_error_of(
      [&] { f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(aws_client, the_budget_bounds_real_retries_well_before_max_attempts) {
  test_server server(in_order({reply(503)}));
  retry_policy policy;
  policy.max_attempts = 50;
  policy.base_delay = milliseconds(100);
  policy.max_delay = milliseconds(100);
  policy.total_budget = milliseconds(250);
  http_client http;
  static_credentials creds;
  aws_client client(http, creds, policy);  // the real clock and sleeper
  const auto start = std::chrono::steady_clock::now();
  const auto t = storage_error_of(
      [&] { client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_GE(server.requests().size(), 2u);
  EXPECT_LT(server.requests().size(), 50u);
  EXPECT_LT(elapsed, std::chrono::seconds(3));  // generous: no attempt starts after 250 ms
}

// ---- the request's deadline (base/request_deadline) ----

TEST(aws_client, a_passed_deadline_sends_nothing_and_gives_storage_unavailable) {
  test_server server(in_order({reply(200, "{}")}));
  fixture f;
  const request_deadline::scope out_of_time(std::chrono::steady_clock::now() - milliseconds(1));
  const auto t = storage_error_of(
      [&] { f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(f.creds.calls, 0);  // not even signed
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(aws_client, less_time_left_than_an_attempt_needs_sends_nothing) {
  test_server server(in_order({reply(200, "{}")}));
  retry_policy policy;
  policy.min_attempt_time = milliseconds(5000);
  fixture f(policy);
  const request_deadline::scope nearly_out(std::chrono::steady_clock::now() + milliseconds(2000));
  const auto t = storage_error_of(
      [&] { f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_EQ(server.connections(), 0u);
}

TEST(aws_client, with_time_left_the_deadline_changes_nothing) {
  test_server server(in_order({reply(500), reply(200, "{}")}));
  fixture f;
  const request_deadline::scope plenty(std::chrono::steady_clock::now() + std::chrono::seconds(60));
  const auto res = f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(aws_client, the_deadline_ends_an_attempt_long_before_its_configured_timeout) {
  test_server server([](const received_request&) {
    scripted_reply r;
    r.then = scripted_reply::then_what::never_answer;
    return r;
  });
  http_client_options options;
  options.request_timeout = std::chrono::seconds(30);
  http_client http(options);
  static_credentials creds;
  retry_policy policy;
  policy.total_budget = std::chrono::seconds(120);
  aws_client client(http, creds, policy);
  const auto start = std::chrono::steady_clock::now();
  thrown t;
  {
    const request_deadline::scope answer_by(start + milliseconds(400));
    t = storage_error_of(
        [&] { client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_LE(server.requests().size(), 1u);  // the one attempt, cut at the deadline; no time for another
  // Generous: 400 ms is the deadline; without it one attempt alone would take 30 s.
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(aws_client, retries_stop_at_the_deadline_well_before_attempts_or_budget_run_out) {
  test_server server([](const received_request&) {
    std::this_thread::sleep_for(milliseconds(50));
    return reply(500);
  });
  retry_policy policy;
  policy.max_attempts = 1000;
  policy.base_delay = milliseconds(20);
  policy.max_delay = milliseconds(20);
  policy.total_budget = std::chrono::seconds(600);
  http_client http;
  static_credentials creds;
  aws_client client(http, creds, policy);  // the real clock and sleeper
  const auto start = std::chrono::steady_clock::now();
  thrown t;
  {
    const request_deadline::scope answer_by(start + milliseconds(500));
    t = storage_error_of(
        [&] { client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code); });
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_storage_unavailable_with_retry_after(t);
  EXPECT_GE(server.requests().size(), 1u);
  EXPECT_LT(server.requests().size(), 20u);  // 500 ms hold at most ten 50 ms answers
  EXPECT_LT(elapsed, std::chrono::seconds(10));  // generous: without the deadline, 1000 attempts (50 s or more)
}

TEST(aws_client, each_attempt_is_signed_afresh_with_its_own_date_and_credentials) {
  test_server server(in_order({reply(500), reply(500), reply(200)}));
  fixture f;
  f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(f.creds.calls.load(), 3);
  std::set<std::string> authorizations;
  const std::vector<std::string> dates = {"20231114T221320Z", "20231114T221321Z", "20231114T221322Z"};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].header("x-amz-date"), dates[i]);
    EXPECT_EQ(seen[i].header("x-amz-security-token"), "session-token-value");
    const auto auth = seen[i].header("authorization").value_or("");
    EXPECT_EQ(
        auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/dynamodb/aws4_request, ", 0),
        0u)
        << auth;
    authorizations.insert(auth);
  }
  EXPECT_EQ(authorizations.size(), 3u);
}

// The server re-signs what it received (path with the endpoint's base
// path, query, the signed headers, body): the same signature means the
// wire carries exactly what was signed.
TEST(aws_client, the_signature_covers_the_request_as_it_arrives_base_path_included) {
  test_server server(in_order({reply(200)}));
  fixture f;
  auto ep = local(server);
  ep.base_path = "/base";
  http_request req;
  req.method = "PUT";
  req.path = "/bucket/a%20b";
  req.query = "x-id=PutObject";
  req.headers = {{"Content-Type", "image/png"}};
  req.body = "\x89PNG....";
  const sigv4::options opts{.s3_paths = true, .unsigned_payload = false, .content_sha256_header = true};
  f.client.send(ep, s3_scope, req, opts, s3_error_code);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/base/bucket/a%20b?x-id=PutObject");
  const std::string auth = seen[0].header("authorization").value_or("");
  const auto sh = auth.find("SignedHeaders=");
  ASSERT_NE(sh, std::string::npos);
  const std::string signed_list = auth.substr(sh + 14, auth.find(',', sh) - sh - 14);

  http_request rebuilt;
  rebuilt.method = seen[0].method;
  const auto q = seen[0].target.find('?');
  rebuilt.path = seen[0].target.substr(0, q);
  rebuilt.query = q == std::string::npos ? "" : seen[0].target.substr(q + 1);
  rebuilt.body = seen[0].body;
  for (const auto& [name, value] : seen[0].headers) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "x-amz-date" || lower == "x-amz-security-token" || lower == "x-amz-content-sha256") continue;
    if ((";" + signed_list + ";").find(";" + lower + ";") == std::string::npos) continue;
    rebuilt.headers.emplace_back(name, value);
  }
  sigv4::sign_request(rebuilt, f.creds.get(), s3_scope, fixed_time, opts);
  EXPECT_EQ(rebuilt.header("authorization").value_or("?"), auth);
}

TEST(aws_client, retries_are_logged_without_credentials_or_bodies) {
  test_server server(in_order({reply(500, "secret-body-text"), reply(200)}));
  fixture f;
  ::testing::internal::CaptureStdout();
  f.client.send(local(server), dynamodb_scope, dynamodb_request(), {}, dynamodb_error_code);
  std::fflush(stdout);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("\"msg\":\"aws request retried\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"level\":\"warn\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"host\":\"127.0.0.1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"status\":500"), std::string::npos) << out;
  EXPECT_NE(out.find("\"attempt\":1"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret-body-text"), std::string::npos) << out;
  EXPECT_EQ(out.find("wJalrXUtnFEMI"), std::string::npos) << out;
  EXPECT_EQ(out.find("session-token-value"), std::string::npos) << out;
  EXPECT_EQ(out.find("AWS4-HMAC-SHA256"), std::string::npos) << out;
}

TEST(backoff_delay, stays_within_the_capped_exponential_ceiling_and_spans_it) {
  retry_policy policy;
  policy.base_delay = milliseconds(25);
  policy.max_delay = milliseconds(1000);
  const std::vector<std::pair<int, std::int64_t>> ceilings = {{1, 25},    {2, 50},       {3, 100},  {4, 200},
                                                              {5, 400},   {6, 800},      {7, 1000}, {8, 1000},
                                                              {64, 1000}, {100000, 1000}};
  for (const auto& [attempt, ceiling] : ceilings) {
    std::int64_t lowest = ceiling, highest = 0;
    for (int i = 0; i < 2000; ++i) {
      const auto d = backoff_delay(policy, attempt).count();
      ASSERT_GE(d, 0) << "attempt " << attempt;
      ASSERT_LE(d, ceiling) << "attempt " << attempt;
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
    }
    // Full jitter: the draws cover the range, not a constant or a band.
    EXPECT_LE(lowest, ceiling / 5) << "attempt " << attempt;
    EXPECT_GE(highest, ceiling * 4 / 5) << "attempt " << attempt;
  }
}

TEST(backoff_delay, degenerate_policies_give_zero_or_the_cap) {
  retry_policy zero;
  zero.base_delay = milliseconds(0);
  EXPECT_EQ(backoff_delay(zero, 5), milliseconds(0));
  retry_policy tiny_cap;
  tiny_cap.base_delay = milliseconds(500);
  tiny_cap.max_delay = milliseconds(10);
  for (int i = 0; i < 200; ++i) EXPECT_LE(backoff_delay(tiny_cap, 1), milliseconds(10));
}

TEST(backoff_delay, is_safe_to_draw_from_many_threads) {
  retry_policy policy;
  std::atomic<int> out_of_range{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        const auto d = backoff_delay(policy, 3);
        if (d < milliseconds(0) || d > milliseconds(100)) ++out_of_range;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(out_of_range.load(), 0);
}

TEST(retry_classification, throttling_codes_are_the_documented_set) {
  for (const char* code : {"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
                           "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException",
                           "SlowDown", "RequestThrottled", "RequestThrottledException"})
    EXPECT_TRUE(is_throttling_code(code)) << code;
  for (const char* code :
       {"LimitExceededException", "ConditionalCheckFailedException", "ValidationException",
        "ResourceNotFoundException", "AccessDenied", "", "throttlingexception", "SlowDown "})
    EXPECT_FALSE(is_throttling_code(code)) << code;
}

TEST(retry_classification, only_throttling_429_and_server_errors_are_retryable) {
  EXPECT_TRUE(is_retryable(400, "ProvisionedThroughputExceededException"));
  EXPECT_TRUE(is_retryable(400, "ThrottlingException"));
  EXPECT_TRUE(is_retryable(503, "SlowDown"));
  EXPECT_TRUE(is_retryable(429, ""));
  EXPECT_TRUE(is_retryable(500, ""));
  EXPECT_TRUE(is_retryable(502, ""));
  EXPECT_TRUE(is_retryable(503, ""));
  EXPECT_TRUE(is_retryable(504, ""));
  EXPECT_FALSE(is_retryable(501, "NotImplemented"));
  EXPECT_FALSE(is_retryable(400, "ConditionalCheckFailedException"));
  EXPECT_FALSE(is_retryable(400, "ValidationException"));
  EXPECT_FALSE(is_retryable(400, "LimitExceededException"));
  EXPECT_FALSE(is_retryable(403, "AccessDenied"));
  EXPECT_FALSE(is_retryable(404, "NoSuchKey"));
  EXPECT_FALSE(is_retryable(200, ""));
  EXPECT_FALSE(is_retryable(304, ""));
}

}  // namespace
}  // namespace gatehouse::aws
