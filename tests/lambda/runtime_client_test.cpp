// The Runtime API client against the emulator, in-process: the protocol,
// the trace id, and every retry path.
#include "lambda/runtime_client.hpp"

#include "runtime_emulator.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace gatehouse::lambda {
namespace {

using testing::runtime_emulator;
using namespace std::chrono_literals;
namespace json = boost::json;

// Short backoffs: a failing case settles in well under a second.
runtime_client_options fast() {
  runtime_client_options o;
  o.max_attempts = 4;
  o.first_backoff = 5ms;
  o.max_backoff = 20ms;
  o.post_timeout = 2000ms;
  return o;
}

TEST(RuntimeClient, NextDeliversTheEventAndItsHeaders) {
  runtime_emulator emu;
  const std::string id = emu.enqueue(R"({"hello":"world"})", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  runtime_client rt(emu.address(), fast());
  const invocation inv = rt.next();
  EXPECT_EQ(inv.request_id, id);
  EXPECT_EQ(inv.event, R"({"hello":"world"})");
  EXPECT_EQ(inv.function_arn, "arn:aws:lambda:us-east-1:123456789012:function:gatehouse-test");
  EXPECT_EQ(inv.trace_id, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_GT(inv.deadline_ms, now_ms + 50000);
  EXPECT_LT(inv.deadline_ms, now_ms + 70000);
  EXPECT_EQ(emu.last_headers("next").at("host"), emu.address());
}

// The trace id travels with the invocation only. The environment is never
// written: a per-invocation setenv raced with getenv inside getaddrinfo on
// the AWS client's resolver thread (issue 12, finding 10), so a value an
// operator put there stays exactly as it was.
TEST(RuntimeClient, TraceIdTravelsWithTheInvocationAndTheEnvironmentIsNeverWritten) {
  ASSERT_EQ(::setenv("_X_AMZN_TRACE_ID", "set-by-the-test", 1), 0);
  runtime_emulator emu;
  emu.enqueue("{}", "Root=1-aaaa;Parent=bbbb;Sampled=0");
  emu.enqueue("{}");
  runtime_client rt(emu.address(), fast());
  EXPECT_EQ(rt.next().trace_id, "Root=1-aaaa;Parent=bbbb;Sampled=0");
  EXPECT_STREQ(std::getenv("_X_AMZN_TRACE_ID"), "set-by-the-test");
  EXPECT_EQ(rt.next().trace_id, "");
  EXPECT_STREQ(std::getenv("_X_AMZN_TRACE_ID"), "set-by-the-test");
  ::unsetenv("_X_AMZN_TRACE_ID");
}

TEST(RuntimeClient, RespondPostsTheDocumentOnOneKeptAliveConnection) {
  runtime_emulator emu;
  runtime_client rt(emu.address(), fast());
  for (int i = 0; i < 3; ++i) {
    const std::string id = emu.enqueue("{}");
    const invocation inv = rt.next();
    rt.respond(inv.request_id, R"({"statusCode":200,"body":")" + std::to_string(i) + "\"}");
    const auto result = emu.wait_result(id, 2s);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->kind, "response");
    EXPECT_EQ(result->body, R"({"statusCode":200,"body":")" + std::to_string(i) + "\"}");
  }
  EXPECT_EQ(emu.connections(), 1);
}

TEST(RuntimeClient, FailPostsTheErrorDocumentAndHeader) {
  runtime_emulator emu;
  const std::string id = emu.enqueue("{}");
  runtime_client rt(emu.address(), fast());
  rt.fail(rt.next().request_id, "Function.Crashed", "it \"broke\"");
  const auto result = emu.wait_result(id, 2s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind, "error");
  EXPECT_EQ(result->error_type, "Function.Crashed");
  EXPECT_EQ(json::parse(result->body), json::parse(R"({"errorMessage":"it \"broke\"","errorType":"Function.Crashed"})"));
}

TEST(RuntimeClient, InitErrorPostsTypeAndMessage) {
  runtime_emulator emu;
  runtime_client rt(emu.address(), fast());
  rt.init_error("Runtime.InvalidConfiguration", "BCRYPT_COST: expected an integer 4..14");
  const auto report = emu.wait_init_error(2s);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->error_type, "Runtime.InvalidConfiguration");
  const auto body = json::parse(report->body);
  EXPECT_EQ(body.at("errorType").as_string(), "Runtime.InvalidConfiguration");
  EXPECT_EQ(body.at("errorMessage").as_string(), "BCRYPT_COST: expected an integer 4..14");
}

TEST(RuntimeClient, ResponsePostAnswered5xxIsRetriedUntilItIsRecorded) {
  runtime_emulator emu;
  const std::string id = emu.enqueue("{}");
  emu.fail_response_posts(2, 503);
  runtime_client rt(emu.address(), fast());
  rt.respond(rt.next().request_id, R"({"statusCode":204})");
  const auto result = emu.wait_result(id, 2s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, R"({"statusCode":204})");
  EXPECT_EQ(emu.response_posts(), 3);
}

TEST(RuntimeClient, ResponsePostOnADroppedConnectionIsRetriedOnANewOne) {
  runtime_emulator emu;
  const std::string id = emu.enqueue("{}");
  emu.drop_response_posts(1);
  runtime_client rt(emu.address(), fast());
  rt.respond(rt.next().request_id, R"({"statusCode":200})");
  ASSERT_TRUE(emu.wait_result(id, 2s));
  EXPECT_EQ(emu.response_posts(), 2);
  EXPECT_EQ(emu.connections(), 2);
}

TEST(RuntimeClient, ResponsePostAnswered4xxIsFinalAndNotRetried) {
  runtime_emulator emu;
  emu.enqueue("{}");
  emu.fail_response_posts(5, 400);
  runtime_client rt(emu.address(), fast());
  EXPECT_NO_THROW(rt.respond(rt.next().request_id, "{}"));
  EXPECT_EQ(emu.response_posts(), 1);
}

TEST(RuntimeClient, ResponseRefusedAsTooLargeBecomesTheInvocationsError) {
  runtime_emulator emu;
  const std::string id = emu.enqueue("{}");
  emu.fail_response_posts(1, 413);
  runtime_client rt(emu.address(), fast());
  rt.respond(rt.next().request_id, "{}");
  const auto result = emu.wait_result(id, 2s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind, "error");
  EXPECT_EQ(result->error_type, "Function.ResponseSizeTooLarge");
}

TEST(RuntimeClient, ResponsePostThatKeepsFailingThrowsAfterBoundedAttempts) {
  runtime_emulator emu;
  emu.enqueue("{}");
  emu.fail_response_posts(100, 500);
  runtime_client rt(emu.address(), fast());
  const std::string id = rt.next().request_id;
  EXPECT_THROW(rt.respond(id, "{}"), runtime_api_error);
  EXPECT_EQ(emu.response_posts(), 4);
}

TEST(RuntimeClient, NextOnADroppedConnectionIsRetried) {
  runtime_emulator emu;
  const std::string id = emu.enqueue("{\"n\":1}");
  emu.drop_next_requests(2);
  runtime_client rt(emu.address(), fast());
  const invocation inv = rt.next();
  EXPECT_EQ(inv.request_id, id);
  EXPECT_EQ(inv.event, "{\"n\":1}");
  EXPECT_EQ(emu.next_requests(), 3);
}

TEST(RuntimeClient, EventOverTheLimitIsFailedAndTheNextOneServed) {
  runtime_emulator emu;
  auto options = fast();
  options.max_event_bytes = 1024;
  const std::string big = emu.enqueue("\"" + std::string(4096, 'x') + "\"");
  const std::string small = emu.enqueue("{}");
  runtime_client rt(emu.address(), options);
  const invocation inv = rt.next();
  EXPECT_EQ(inv.request_id, small);
  const auto refused = emu.wait_result(big, 2s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, "error");
  EXPECT_EQ(refused->error_type, "Runtime.EventTooLarge");
}

TEST(RuntimeClient, NextThrowsOnceTheApiStaysUnreachable) {
  runtime_emulator emu;
  emu.refuse_all();
  runtime_client rt(emu.address(), fast());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)rt.next(), runtime_api_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(emu.connections(), 4);
}

TEST(RuntimeClient, NothingListeningIsARuntimeApiError) {
  unsigned short port = 0;
  {
    runtime_emulator gone;  // a port that was free a moment ago
    port = gone.port();
  }
  runtime_client rt("127.0.0.1:" + std::to_string(port), fast());
  EXPECT_THROW(rt.init_error("Runtime.InitError", "x"), runtime_api_error);
}

TEST(RuntimeClient, MalformedApiAddressIsRejectedUpFront) {
  for (const char* api : {"", "localhost", "127.0.0.1:", ":9001", "127.0.0.1:0", "127.0.0.1:70000",
                          "127.0.0.1:90x1", "[::1]9001", "[::1"}) {
    EXPECT_THROW(runtime_client{api}, std::invalid_argument) << api;
  }
  EXPECT_NO_THROW(runtime_client{"127.0.0.1:9001"});
  EXPECT_NO_THROW(runtime_client{"[::1]:9001"});
  EXPECT_NO_THROW(runtime_client{"localhost:9001"});
}

}  // namespace
}  // namespace gatehouse::lambda
