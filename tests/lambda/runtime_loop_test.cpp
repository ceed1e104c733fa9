// The runtime loop in-process, over the emulator, with a small pipeline
// whose handlers misbehave on purpose (the real app never throws out of a
// handler, so these cases cannot be provoked through the binary).
#include "lambda/runtime_loop.hpp"

#include "base/clock.hpp"
#include "base/request_deadline.hpp"
#include "crypto/crypto.hpp"
#include "runtime_emulator.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>
#include <stdexcept>

namespace gatehouse::lambda {
namespace {

using testing::runtime_emulator;
using namespace std::chrono_literals;
namespace json = boost::json;

struct counters {
  std::atomic<int> small_runs{0};
};

http::pipeline make_pipeline(counters& c) {
  http::router r;
  r.add("GET", "/ok", [](http::request& req) {
    return http::json_response(200, json::object{{"path", req.path}, {"query", req.query}, {"ip", req.source_ip}});
  });
  r.add("GET", "/boom", [](http::request&) -> http::response {
    throw std::runtime_error("secret detail: db at 10.0.0.7");
  });
  r.add("GET", "/weird", [](http::request&) -> http::response { throw 42; });
  r.add(
      "POST", "/small",
      [&c](http::request&) {
        ++c.small_runs;
        return http::empty_response(204);
      },
      {.max_body = 16});
  r.add("GET", "/cookie", [](http::request&) {
    http::response res = http::empty_response(204);
    res.headers.emplace_back("set-cookie", "a=1");
    res.headers.emplace_back("set-cookie", "b=2");
    return res;
  });
  return http::pipeline(std::move(r), http::cors_policy{});
}

std::string v2_event(const std::string& method, const std::string& path, const std::string& request_id,
                     const std::string& body = {}) {
  return json::serialize(json::object{
      {"version", "2.0"},
      {"rawPath", path},
      {"rawQueryString", "a=1"},
      {"headers", json::object{{"content-type", "application/json"}}},
      {"requestContext",
       json::object{{"requestId", request_id}, {"http", json::object{{"method", method}, {"sourceIp", "203.0.113.9"}}}}},
      {"body", body},
      {"isBase64Encoded", false}});
}

struct answer {
  int status = 0;
  json::object headers;
  json::value body;  // parsed when JSON
  json::object doc;
};

answer parse_answer(const testing::invocation_result& r) {
  EXPECT_EQ(r.kind, "response");
  answer a;
  a.doc = json::parse(r.body).as_object();
  a.status = static_cast<int>(a.doc.at("statusCode").as_int64());
  a.headers = a.doc.at("headers").as_object();
  const auto& text = a.doc.at("body").as_string();
  if (!text.empty()) a.body = json::parse(text);
  return a;
}

std::string error_code(const answer& a) { return std::string(a.body.at("error").at("code").as_string()); }

class RuntimeLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_client_options o;
    o.max_attempts = 3;
    o.first_backoff = 5ms;
    o.max_backoff = 10ms;
    rt_ = std::make_unique<runtime_client>(emu_.address(), o);
    exit_ = std::async(std::launch::async, [this] { return run_runtime_loop(pipeline_, *rt_); });
  }
  void TearDown() override {
    emu_.refuse_all();
    ASSERT_EQ(exit_.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(exit_.get(), 1) << "the loop ends non-zero once the Runtime API is gone";
  }
  answer invoke(const std::string& event) { return parse_answer(emu_.invoke(event, 5s)); }

  counters counters_;
  http::pipeline pipeline_ = make_pipeline(counters_);
  runtime_emulator emu_;
  std::unique_ptr<runtime_client> rt_;
  std::future<int> exit_;
};

TEST_F(RuntimeLoop, ServesAnEventThroughThePipeline) {
  const auto a = invoke(v2_event("GET", "/ok", "req-ok-1"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, json::parse(R"({"path":"/ok","query":"a=1","ip":"203.0.113.9"})"));
  EXPECT_EQ(a.headers.at("x-request-id").as_string(), "req-ok-1");
}

TEST_F(RuntimeLoop, HandlerExceptionIs500JsonAndTheNextInvocationWorks) {
  const auto boom = invoke(v2_event("GET", "/boom", "req-boom"));
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(error_code(boom), "internal");
  EXPECT_EQ(boom.headers.at("x-request-id").as_string(), "req-boom");
  EXPECT_EQ(boom.doc.at("body").as_string().find("secret"), json::string::npos);

  const auto weird = invoke(v2_event("GET", "/weird", "req-weird"));
  EXPECT_EQ(weird.status, 500);
  EXPECT_EQ(error_code(weird), "internal");

  const auto after = invoke(v2_event("GET", "/ok", "req-after"));
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.headers.at("x-request-id").as_string(), "req-after");
}

TEST_F(RuntimeLoop, MalformedEventIs400InvalidEventCarryingLambdasRequestId) {
  const std::string id = emu_.enqueue("this is not an event");
  const auto result = emu_.wait_result(id, 5s);
  ASSERT_TRUE(result);
  const auto a = parse_answer(*result);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(error_code(a), "invalid_event");
  EXPECT_EQ(a.headers.at("x-request-id").as_string(), id);
  EXPECT_EQ(a.headers.at("content-type").as_string(), "application/json; charset=utf-8");
  EXPECT_EQ(invoke(v2_event("GET", "/ok", "req-after-bad")).status, 200);
}

TEST_F(RuntimeLoop, BodyOverTheRouteLimitIs413WithoutRunningTheHandler) {
  const auto big = invoke(v2_event("POST", "/small", "req-big", std::string(17, 'x')));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(error_code(big), "payload_too_large");
  EXPECT_EQ(big.headers.at("x-request-id").as_string(), "req-big");
  EXPECT_EQ(counters_.small_runs.load(), 0);
  EXPECT_EQ(invoke(v2_event("POST", "/small", "req-fits", std::string(16, 'x'))).status, 204);
  EXPECT_EQ(counters_.small_runs.load(), 1);
}

TEST_F(RuntimeLoop, Payload1EventGetsAPayload1Response) {
  const std::string event = json::serialize(json::object{
      {"httpMethod", "GET"},
      {"path", "/cookie"},
      {"headers", nullptr},
      {"requestContext", json::object{{"requestId", "rest-1"}, {"identity", json::object{{"sourceIp", "1.2.3.4"}}}}},
      {"body", nullptr}});
  const auto a = invoke(event);
  EXPECT_EQ(a.status, 204);
  EXPECT_EQ(a.doc.at("multiValueHeaders").at("set-cookie"), (json::array{"a=1", "b=2"}));
  EXPECT_FALSE(a.doc.contains("cookies"));
}

TEST_F(RuntimeLoop, FailedResponsePostIsRetriedAndTheResponseArrives) {
  emu_.fail_response_posts(1, 500);
  const auto a = invoke(v2_event("GET", "/ok", "req-retried"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(emu_.response_posts(), 2);
}

TEST(HandleInvocation, NeverThrowsAndAlwaysAnswersJson) {
  counters c;
  const auto p = make_pipeline(c);
  for (const std::string& event : {std::string("\xff\xfe"), std::string("[]"), std::string(100000, '['),
                                  v2_event("GET", "/nowhere", "r-404"), v2_event("DELETE", "/ok", "r-405")}) {
    const std::string doc = handle_invocation(p, invocation{"00000000-0000-4000-8000-000000000001", 0, "", "", event});
    const auto parsed = json::parse(doc).as_object();
    const auto status = parsed.at("statusCode").as_int64();
    EXPECT_TRUE(status == 400 || status == 404 || status == 405) << doc;
    EXPECT_TRUE(parsed.at("headers").as_object().contains("x-request-id"));
  }
}

// ---- the invocation's deadline ----

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(AnswerDeadline, IsTheRuntimeApisDeadlineLessTheMarginOnTheSteadyClock) {
  const auto now = steady::now();
  invocation inv;
  inv.deadline_ms = 1'700'000'003'000;
  EXPECT_EQ(answer_deadline(inv, now, milliseconds(1'700'000'000'000)), now + milliseconds(3000) - answer_margin);
  EXPECT_EQ(answer_deadline(inv, now, milliseconds(1'700'000'004'000)), now - milliseconds(1000) - answer_margin);
  inv.deadline_ms = 0;  // missing or malformed
  EXPECT_FALSE(answer_deadline(inv, now, milliseconds(1'700'000'000'000)).has_value());
  EXPECT_EQ(answer_margin, milliseconds(500));  // docs/RELIABILITY.md states it
}

http::pipeline deadline_pipeline(std::optional<steady::time_point>& seen, int& runs) {
  http::router r;
  r.add("GET", "/seen", [&](http::request&) {
    ++runs;
    seen = request_deadline::current();
    return http::empty_response(204);
  });
  return http::pipeline(std::move(r), http::cors_policy{});
}

TEST(HandleInvocation, TheHandlerRunsUnderTheInvocationsDeadlineLessTheMargin) {
  std::optional<steady::time_point> seen;
  int runs = 0;
  const auto p = deadline_pipeline(seen, runs);
  // The wall clock first: whatever time passes between the two readings
  // can only make the deadline the handler sees earlier, never later.
  const auto unix_before = system_now_ms();
  const auto before = steady::now();
  const invocation inv{"00000000-0000-4000-8000-000000000002", unix_before.count() + 3000, "", "",
                       v2_event("GET", "/seen", "r-seen")};
  const auto doc = json::parse(handle_invocation(p, inv)).as_object();
  EXPECT_EQ(doc.at("statusCode").as_int64(), 204);
  ASSERT_TRUE(seen.has_value());
  EXPECT_LE(*seen, before + milliseconds(3000) - answer_margin + milliseconds(2));  // ms rounding
  EXPECT_GT(*seen, before + milliseconds(1000));
  EXPECT_FALSE(request_deadline::current().has_value());
}

TEST(HandleInvocation, AnInvocationWithoutTimeLeftIs503ServerBusyWithoutRunningTheHandler) {
  std::optional<steady::time_point> seen;
  int runs = 0;
  const auto p = deadline_pipeline(seen, runs);
  // Inside the margin: Lambda would end the sandbox before an answer got out.
  const invocation inv{"00000000-0000-4000-8000-000000000003", system_now_ms().count() + 100, "", "",
                       v2_event("GET", "/seen", "r-late")};
  const auto doc = json::parse(handle_invocation(p, inv)).as_object();
  EXPECT_EQ(doc.at("statusCode").as_int64(), 503);
  const auto body = json::parse(doc.at("body").as_string()).as_object();
  EXPECT_EQ(body.at("error").at("code").as_string(), "server_busy");
  EXPECT_EQ(doc.at("headers").as_object().at("retry-after").as_string(), "1");
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace gatehouse::lambda
