// The real binary as Lambda runs it, on DynamoDB (dynalite behind the
// SigV4 proxy), with invocations whose Lambda-Runtime-Deadline-Ms is a few
// seconds away and a DynamoDB slow enough to miss it: the answer must be
// a 503 storage_unavailable in the contract's shape that reaches the
// Runtime API before the deadline the emulator handed out (Lambda ends the
// sandbox then, and API Gateway answers in its own shape), and the same
// process must serve the next invocation.
#include "api_gateway_event.hpp"
#include "lambda_process.hpp"
#include "runtime_emulator.hpp"

#include "support/aws_peers.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>

namespace gatehouse::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string password = "correct horse battery";

struct answer {
  int status = 0;
  json::object headers;
  json::object body;
};

answer parse(const invocation_result& r) {
  if (r.kind != "response") throw std::runtime_error("invocation failed: " + r.error_type + " " + r.body);
  const auto doc = json::parse(r.body).as_object();
  answer a;
  a.status = static_cast<int>(doc.at("statusCode").as_int64());
  a.headers = doc.at("headers").as_object();
  a.body = json::parse(doc.at("body").as_string()).as_object();
  return a;
}

std::string login_body(const std::string& email) {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

class LambdaDeadline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { peers_ = std::make_unique<aws_peers>(); }
  static void TearDownTestSuite() { peers_.reset(); }

  void SetUp() override {
    std::map<std::string, std::string> env = peers_->gatehouse_env();
    env["USERS_TABLE"] = peers_->new_table_name();
    env["DATA_DIR"] = (dir_.path() / "data").string();
    env["JWT_PRIVATE_KEY"] = test_jwt_private_key;
    env["JWT_ISSUER"] = test_lambda_issuer;
    env["SERVER_SECRET"] = test_server_secret;
    env["BCRYPT_COST"] = "4";
    env["LOG_LEVEL"] = "info";
    env["PATH"] = "/usr/bin:/bin";
    for (const char* limit : {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "RATE_LIMIT_LOGIN_PER_EMAIL", "RATE_LIMIT_LOGINS_PER_IP",
                              "RATE_LIMIT_LOGIN_PER_IP", "RATE_LIMIT_SIGNUP_PER_IP"})
      env[limit] = "0";
    // The defaults, stated: 3 s an attempt, 6 s a call. One call alone
    // could outlast a 3 s invocation; several in a row certainly would.
    env["AWS_REQUEST_TIMEOUT_MS"] = "3000";
    env["AWS_TOTAL_TIMEOUT_MS"] = "6000";
    std::string err;
    ASSERT_EQ(run_gatehouse(env, {"migrate", "--create-tables"}, err), 0) << err;

    env["AWS_LAMBDA_RUNTIME_API"] = emu_.address();
    process_ = std::make_unique<lambda_process>(env, dir_.path() / "lambda.log");
    ASSERT_EQ(post("/signup", json::serialize(json::object{{"name", "Ada"}, {"email", email_}, {"password", password}}))
                  .status,
              201);
  }

  void TearDown() override {
    peers_->delay_next(aws_service::dynamodb, 0, 0);
    if (HasFailure() && process_) std::cerr << "--- gatehouse log ---\n" << process_->log_text() << peers_->logs();
    process_.reset();
  }

  std::string event(const std::string& path, const std::string& body) {
    return to_event({.method = "POST",
                     .path = path,
                     .headers = {{"content-type", "application/json"}},
                     .body = body,
                     .request_id = "deadline-" + std::to_string(++sequence_)});
  }

  // With the emulator's default time limit (60 s).
  answer post(const std::string& path, const std::string& body) { return parse(emu_.invoke(event(path, body), 20s)); }

  // A login invoked with `time_limit`: its answer, and by how much it beat
  // the deadline the emulator handed out (negative: it came too late).
  struct timed_answer {
    answer a;
    std::chrono::milliseconds to_spare{};
  };
  timed_answer login_within(std::chrono::milliseconds time_limit) {
    const std::string id = emu_.enqueue(event("/login", login_body(email_)), {}, time_limit);
    // A bound against hangs only: the emulator keeps listening after its deadline.
    const auto result = emu_.wait_result(id, 30s);
    if (!result) throw std::runtime_error("no answer to invocation " + id);
    timed_answer t{parse(*result), {}};
    t.to_spare = std::chrono::duration_cast<std::chrono::milliseconds>(*emu_.deadline_at(id) - *emu_.result_at(id));
    std::cout << "[ deadline ] " << time_limit.count() << " ms invocation: " << t.a.status << ", "
              << t.to_spare.count() << " ms before its deadline\n";
    return t;
  }

  static void expect_storage_unavailable(const answer& a) {
    EXPECT_EQ(a.status, 503) << json::serialize(a.body);
    ASSERT_TRUE(a.body.contains("error")) << json::serialize(a.body);
    const auto& error = a.body.at("error").as_object();
    EXPECT_EQ(error.at("code").as_string(), "storage_unavailable");
    EXPECT_EQ(error.at("message").as_string(), "the service is temporarily unavailable");
    EXPECT_EQ(a.headers.at("retry-after").as_string(), "1");
    EXPECT_EQ(a.headers.at("content-type").as_string(), "application/json; charset=utf-8");
  }

  static inline std::unique_ptr<aws_peers> peers_;
  temp_dir dir_;
  runtime_emulator emu_;
  std::unique_ptr<lambda_process> process_;
  const std::string email_ = "deadline@example.com";
  int sequence_ = 0;
};

TEST_F(LambdaDeadline, AHungDynamoDbIsA503BeforeTheDeadlineNotAKilledSandbox) {
  // Each DynamoDB request is held 10 s: one attempt (3 s) outlasts the
  // invocation's 3 s, so only the deadline can end it in time.
  peers_->delay_next(aws_service::dynamodb, 1000000, 10000);
  const auto late = login_within(3000ms);
  expect_storage_unavailable(late.a);
  EXPECT_GT(late.to_spare, 0ms) << "answered after the deadline";

  peers_->delay_next(aws_service::dynamodb, 0, 0);
  EXPECT_EQ(post("/login", login_body(email_)).status, 200);
  EXPECT_TRUE(process_->running());
}

TEST_F(LambdaDeadline, SeveralSlowCallsInARowShareOneDeadline) {
  // Each request held 1.5 s: every call alone is well inside its own
  // attempt timeout and budget, but a login makes at least two in a row.
  peers_->delay_next(aws_service::dynamodb, 1000000, 1500);
  const auto late = login_within(3000ms);
  expect_storage_unavailable(late.a);
  EXPECT_GT(late.to_spare, 0ms) << "answered after the deadline";

  peers_->delay_next(aws_service::dynamodb, 0, 0);
  EXPECT_EQ(post("/login", login_body(email_)).status, 200);
  EXPECT_TRUE(process_->running());
}

TEST_F(LambdaDeadline, WithTimeToSpareTheSameLoginSucceeds) {
  // The control: the same delays and a deadline that can hold them.
  peers_->delay_next(aws_service::dynamodb, 1000000, 300);
  const auto in_time = login_within(20000ms);
  EXPECT_EQ(in_time.a.status, 200) << json::serialize(in_time.a.body);
  EXPECT_GT(in_time.to_spare, 0ms);
}

}  // namespace
}  // namespace gatehouse::testing
