#include "lambda/event_codec.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <sstream>

namespace gatehouse::lambda {
namespace {

namespace json = boost::json;
using namespace std::string_literals;

std::string read_sample(const std::string& name) {
  std::ifstream in(std::string(GATEHOUSE_SOURCE_DIR) + "/tests/data/lambda-events/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing sample " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header lookup as HTTP defines it: names compare case-insensitively.
std::optional<std::string> header_ci(const http::request& req, const std::string& name) {
  for (const auto& [n, v] : req.headers)
    if (lower(n) == lower(name)) return v;
  return std::nullopt;
}

std::size_t count_headers(const http::request& req, const std::string& lower_name) {
  return static_cast<std::size_t>(std::count_if(req.headers.begin(), req.headers.end(),
                                                [&](const auto& h) { return h.first == lower_name; }));
}

void expect_lower_case_names(const http::request& req) {
  for (const auto& [n, v] : req.headers) EXPECT_EQ(n, lower(n)) << "header name not lower-cased";
}

// The code a decode failure carries, or "decoded" when it did not fail.
std::string decode_failure(std::string_view event) {
  try {
    (void)decode_event(event);
    return "decoded";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::invalid_argument);
    return e.code();
  }
}

json::object v2_event() {
  return json::parse(R"({
    "version": "2.0", "routeKey": "$default", "rawPath": "/signup", "rawQueryString": "",
    "headers": {"content-type": "application/json"},
    "requestContext": {"requestId": "req-1", "http": {"method": "POST", "path": "/signup", "sourceIp": "10.1.2.3"}},
    "body": "{}", "isBase64Encoded": false})")
      .as_object();
}

json::object v1_event() {
  return json::parse(R"({
    "resource": "/{proxy+}", "path": "/users", "httpMethod": "GET",
    "headers": null, "multiValueHeaders": null,
    "queryStringParameters": null, "multiValueQueryStringParameters": null,
    "requestContext": {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "10.9.8.7"}},
    "body": null, "isBase64Encoded": false})")
      .as_object();
}

json::value parse_document(const std::string& text) { return json::parse(text); }

// ---- the published samples ----

TEST(EventCodecSamples, RestApiProxyRequestIsPayload1WithEveryField) {
  const auto d = decode_event(read_sample("apigw-request.json"));
  EXPECT_EQ(d.version, payload_version::v1);
  const auto& r = d.request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hello/world");
  EXPECT_EQ(r.query, "name=me");
  EXPECT_EQ(r.query_param("name"), "me");
  EXPECT_EQ(r.source_ip, "192.168.196.186");
  EXPECT_EQ(r.request_id, "deef4878-7910-11e6-8f14-25afc3e9ae33");
  EXPECT_EQ(r.body, "{\r\n\t\"a\": 1\r\n}");
  expect_lower_case_names(r);
  EXPECT_EQ(r.headers.size(), 19u);
  EXPECT_EQ(header_ci(r, "Accept"), "*/*");
  EXPECT_EQ(header_ci(r, "Content-Type"), "application/json");
  EXPECT_EQ(header_ci(r, "headerName"), "headerValue");
  EXPECT_EQ(header_ci(r, "CACHE-CONTROL"), "no-cache");
  EXPECT_EQ(header_ci(r, "X-Forwarded-For"), "54.240.196.186, 54.182.214.83");
  EXPECT_EQ(header_ci(r, "Host"), "gy415nuibc.execute-api.us-east-1.amazonaws.com");
  EXPECT_EQ(r.header("content-type"), "application/json");  // what handlers use
  EXPECT_FALSE(header_ci(r, "cookie"));
}

TEST(EventCodecSamples, HttpApiJwtAuthorizerRequestLowerCasesMixedCaseHeadersAndJoinsCookies) {
  const auto d = decode_event(read_sample("apigw-v2-request-jwt-authorizer.json"));
  EXPECT_EQ(d.version, payload_version::v2);
  const auto& r = d.request;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/my/path");
  EXPECT_EQ(r.query, "parameter1=value1&parameter1=value2&parameter2=value");
  EXPECT_EQ(r.source_ip, "IP");
  EXPECT_EQ(r.request_id, "id");
  EXPECT_EQ(r.body, "{\r\n\t\"a\": 1\r\n}");
  expect_lower_case_names(r);
  EXPECT_EQ(r.headers.size(), 3u);  // Header1, Header2, and the joined cookies
  EXPECT_EQ(r.header("header1"), "value1");
  EXPECT_EQ(header_ci(r, "HEADER2"), "value2");
  EXPECT_EQ(r.header("cookie"), "cookie1; cookie2");
}

TEST(EventCodecSamples, HttpApiNoAuthorizerRequestKeepsApiGatewaysPaddedRequestId) {
  const auto d = decode_event(read_sample("apigw-v2-request-no-authorizer.json"));
  EXPECT_EQ(d.version, payload_version::v2);
  const auto& r = d.request;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.query, "");
  EXPECT_EQ(r.source_ip, "1.2.3.4");
  // HTTP API request ids end in base64 padding; they are what correlates
  // with API Gateway's access log, so they are kept.
  EXPECT_EQ(r.request_id, "LV7fzho-PHcEJPw=");
  EXPECT_EQ(r.body, "");
  expect_lower_case_names(r);
  EXPECT_EQ(r.headers.size(), 8u);
  EXPECT_EQ(header_ci(r, "User-Agent"), "curl/7.58.0");
  EXPECT_EQ(header_ci(r, "X-Amzn-Trace-Id"), "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c");
  EXPECT_EQ(header_ci(r, "x-forwarded-for"), "1.2.3.4");
  EXPECT_EQ(header_ci(r, "Content-Length"), "0");
  EXPECT_FALSE(header_ci(r, "cookie"));
}

TEST(EventCodecSamples, FunctionUrlRequestIsPayload2WithCommaJoinedValues) {
  const auto d = decode_event(read_sample("lambda-urls-request.json"));
  EXPECT_EQ(d.version, payload_version::v2);
  const auto& r = d.request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/my/path");
  EXPECT_EQ(r.query, "parameter1=value1&parameter1=value2&parameter2=value");
  EXPECT_EQ(r.query_param("parameter2"), "value");
  EXPECT_EQ(r.source_ip, "123.123.123.123");
  EXPECT_EQ(r.request_id, "id");
  EXPECT_EQ(r.body, "Hello from client!");
  expect_lower_case_names(r);
  EXPECT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(header_ci(r, "Header1"), "value1");
  EXPECT_EQ(header_ci(r, "Header2"), "value1,value2");
  EXPECT_EQ(header_ci(r, "Cookie"), "cookie1; cookie2");
}

// ---- bodies, ids, queries ----

TEST(EventCodec, Base64BodyIsDecodedToTheExactBytes) {
  const std::string bytes("\x89PNG\r\n\x1a\n\0\xff\x01 binary"s);
  auto e = v2_event();
  e["body"] = crypto::base64_encode(bytes);
  e["isBase64Encoded"] = true;
  EXPECT_EQ(decode_event(json::serialize(e)).request.body, bytes);

  auto v1 = v1_event();
  v1["body"] = crypto::base64_encode(bytes);
  v1["isBase64Encoded"] = true;
  EXPECT_EQ(decode_event(json::serialize(v1)).request.body, bytes);
}

TEST(EventCodec, PlainBodyIsTakenVerbatimWhenNotBase64) {
  auto e = v2_event();
  e["body"] = "aGVsbG8=";  // looks like base64, but the flag says text
  EXPECT_EQ(decode_event(json::serialize(e)).request.body, "aGVsbG8=");
}

TEST(EventCodec, UnusableRequestIdIsReplacedByAFreshUuid) {
  for (const json::value& id : {json::value("has spaces"), json::value(std::string(129, 'a')),
                               json::value("a===" /* more than base64 padding */), json::value(nullptr)}) {
    auto e = v2_event();
    e["requestContext"].as_object()["requestId"] = id;
    const auto req = decode_event(json::serialize(e)).request;
    EXPECT_EQ(req.request_id.size(), 36u) << json::serialize(id);
    EXPECT_EQ(req.request_id[14], '4') << "a version 4 UUID";
  }
  auto e = v2_event();
  e["requestContext"].as_object().erase("requestId");
  EXPECT_EQ(decode_event(json::serialize(e)).request.request_id.size(), 36u);
}

TEST(EventCodec, Payload1QueryParametersAreReEncodedIntoARawQuery) {
  auto e = v1_event();
  e["multiValueQueryStringParameters"] = json::parse(R"({"q": ["a b", "c&d=é"], "limit": ["5"]})");
  e["queryStringParameters"] = json::parse(R"({"q": "c&d=é", "limit": "5"})");
  const auto req = decode_event(json::serialize(e)).request;
  EXPECT_EQ(req.query, "q=a%20b&q=c%26d%3D%C3%A9&limit=5");
  EXPECT_EQ(req.query_param("q"), "a b");
  EXPECT_EQ(req.query_param("limit"), "5");

  auto single = v1_event();
  single["queryStringParameters"] = json::parse(R"({"cursor": "x/y+z"})");
  EXPECT_EQ(decode_event(json::serialize(single)).request.query, "cursor=x%2Fy%2Bz");
  EXPECT_EQ(decode_event(json::serialize(single)).request.query_param("cursor"), "x/y+z");
}

TEST(EventCodec, Payload1NullFieldsMeanAbsent) {
  const auto d = decode_event(json::serialize(v1_event()));
  EXPECT_EQ(d.version, payload_version::v1);
  EXPECT_EQ(d.request.method, "GET");
  EXPECT_EQ(d.request.path, "/users");
  EXPECT_EQ(d.request.query, "");
  EXPECT_TRUE(d.request.headers.empty());
  EXPECT_EQ(d.request.body, "");
  EXPECT_EQ(d.request.source_ip, "10.9.8.7");
  EXPECT_EQ(d.request.request_id, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
}

TEST(EventCodec, Payload1RepeatedHeadersKeepEveryValueInOrder) {
  auto e = v1_event();
  e["headers"] = json::parse(R"({"Accept": "b"})");
  e["multiValueHeaders"] = json::parse(R"({"Accept": ["a", "b"], "Authorization": ["Bearer t"]})");
  const auto req = decode_event(json::serialize(e)).request;
  EXPECT_EQ(count_headers(req, "accept"), 2u);
  EXPECT_EQ(req.header("accept"), "a");
  EXPECT_EQ(req.header("authorization"), "Bearer t");

  auto only_single = v1_event();
  only_single["headers"] = json::parse(R"({"X-Request-Id": "abc"})");
  EXPECT_EQ(decode_event(json::serialize(only_single)).request.header("x-request-id"), "abc");
}

TEST(EventCodec, HttpApiPayload1VersionFieldIsAccepted) {
  auto e = v1_event();
  e["version"] = "1.0";
  EXPECT_EQ(decode_event(json::serialize(e)).version, payload_version::v1);
}

TEST(EventCodec, MethodIsUpperCased) {
  auto e = v2_event();
  e["requestContext"].as_object()["http"].as_object()["method"] = "post";
  EXPECT_EQ(decode_event(json::serialize(e)).request.method, "POST");
}

// ---- malformed events ----

TEST(EventCodecMalformed, NonJsonAndNonObjectsAreInvalidEvents) {
  for (const std::string_view text : {"", "not json", "{", "[1,2]", "null", "42", "\"s\"",
                                      R"({"version":"2.0"} trailing)", "{\"a\":1}\x00"}) {
    EXPECT_EQ(decode_failure(text), "invalid_event") << text;
  }
}

TEST(EventCodecMalformed, MissingRequestContextIsAnInvalidEvent) {
  auto e = v2_event();
  e.erase("requestContext");
  EXPECT_EQ(decode_failure(json::serialize(e)), "invalid_event");
  auto v1 = v1_event();
  v1.erase("requestContext");
  EXPECT_EQ(decode_failure(json::serialize(v1)), "invalid_event");
  auto no_http = v2_event();
  no_http["requestContext"].as_object().erase("http");
  EXPECT_EQ(decode_failure(json::serialize(no_http)), "invalid_event");
}

TEST(EventCodecMalformed, MissingMethodOrPathIsAnInvalidEvent) {
  auto no_method = v2_event();
  no_method["requestContext"].as_object()["http"].as_object().erase("method");
  auto no_path = v2_event();
  no_path.erase("rawPath");
  auto relative = v2_event();
  relative["rawPath"] = "users";
  auto odd_method = v2_event();
  odd_method["requestContext"].as_object()["http"].as_object()["method"] = "GET /x";
  auto v1_no_method = v1_event();
  v1_no_method.erase("httpMethod");
  auto v1_no_path = v1_event();
  v1_no_path.erase("path");
  for (const auto& e : {no_method, no_path, relative, odd_method, v1_no_method, v1_no_path})
    EXPECT_EQ(decode_failure(json::serialize(e)), "invalid_event") << json::serialize(e);
}

TEST(EventCodecMalformed, WrongTypesAreInvalidEvents) {
  std::vector<json::object> cases;
  auto add = [&](auto mutate) {
    auto e = v2_event();
    mutate(e);
    cases.push_back(e);
  };
  add([](json::object& e) { e["rawPath"] = 7; });
  add([](json::object& e) { e["rawQueryString"] = json::array{}; });
  add([](json::object& e) { e["headers"] = "content-type: x"; });
  add([](json::object& e) { e["headers"].as_object()["x-n"] = 5; });
  add([](json::object& e) { e["cookies"] = "a=1"; });
  add([](json::object& e) { e["cookies"] = json::array{1}; });
  add([](json::object& e) { e["body"] = json::object{}; });
  add([](json::object& e) { e["isBase64Encoded"] = "true"; });
  add([](json::object& e) { e["requestContext"] = "ctx"; });
  add([](json::object& e) { e["requestContext"].as_object()["http"].as_object()["method"] = 1; });
  add([](json::object& e) { e["requestContext"].as_object()["requestId"] = 12; });
  add([](json::object& e) { e["requestContext"].as_object()["http"].as_object()["sourceIp"] = false; });
  add([](json::object& e) { e["version"] = "3.0"; });
  add([](json::object& e) { e["version"] = 2; });
  for (const auto& e : cases) EXPECT_EQ(decode_failure(json::serialize(e)), "invalid_event") << json::serialize(e);

  auto v1 = v1_event();
  v1["multiValueQueryStringParameters"] = json::parse(R"({"q": "not an array"})");
  EXPECT_EQ(decode_failure(json::serialize(v1)), "invalid_event");
  v1 = v1_event();
  v1["multiValueHeaders"] = json::parse(R"({"Accept": [1]})");
  EXPECT_EQ(decode_failure(json::serialize(v1)), "invalid_event");
  v1 = v1_event();
  v1["requestContext"].as_object()["identity"] = "me";
  EXPECT_EQ(decode_failure(json::serialize(v1)), "invalid_event");
}

TEST(EventCodecMalformed, InvalidBase64BodyIsAnInvalidEvent) {
  for (const char* body : {"@@@@", "abc", "ab=c", "YQ==YQ=="}) {
    auto e = v2_event();
    e["body"] = body;
    e["isBase64Encoded"] = true;
    EXPECT_EQ(decode_failure(json::serialize(e)), "invalid_event") << body;
  }
}

TEST(EventCodecMalformed, HugeNestingIsAnInvalidEventNotAStackOverflow) {
  const std::size_t depth = 100000;
  std::string deep = R"({"version":"2.0","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  EXPECT_EQ(decode_failure(deep), "invalid_event");
  std::string objects;
  for (std::size_t i = 0; i < 5000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(5000, '}');
  EXPECT_EQ(decode_failure(objects), "invalid_event");
}

TEST(EventCodecMalformed, AnyBytesEitherDecodeOrFailAsInvalidEvent) {
  // Mutations of every sample: the decoder is total (no crash, no other error).
  std::mt19937 rng(20261128);
  for (const char* name : {"apigw-request.json", "apigw-v2-request-jwt-authorizer.json",
                           "apigw-v2-request-no-authorizer.json", "lambda-urls-request.json"}) {
    const std::string sample = read_sample(name);
    for (int i = 0; i < 400; ++i) {
      std::string text = sample;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        const std::size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0: text[at] = static_cast<char>(rng() % 256); break;
          case 1: text.erase(at, 1 + rng() % 8); break;
          default: text.insert(at, 1, "{}[]\",:\\0"[rng() % 9]); break;
        }
        if (text.empty()) text = "x";
      }
      try {
        (void)decode_event(text);
      } catch (const error& e) {
        ASSERT_EQ(e.code(), "invalid_event");
      }
    }
  }
}

// ---- responses ----

TEST(EncodeResponse, JsonBodyTravelsAsTextWithItsHeaders) {
  auto res = http::json_response(201, json::object{{"user", json::object{{"name", "Zoë"}}}});
  res.set_header("x-request-id", "req-7");
  for (const auto version : {payload_version::v2, payload_version::v1}) {
    const auto doc = parse_document(encode_response(res, version)).as_object();
    EXPECT_EQ(doc.at("statusCode").as_int64(), 201);
    EXPECT_EQ(doc.at("headers").at("content-type").as_string(), "application/json; charset=utf-8");
    EXPECT_EQ(doc.at("headers").at("x-request-id").as_string(), "req-7");
    EXPECT_EQ(doc.at("body").as_string(), R"({"user":{"name":"Zoë"}})");
    EXPECT_FALSE(doc.at("isBase64Encoded").as_bool());
    EXPECT_FALSE(doc.contains("cookies"));
    EXPECT_FALSE(doc.contains("multiValueHeaders"));
  }
}

TEST(EncodeResponse, BinaryBodyIsBase64AndRoundTrips) {
  http::response res;
  res.status = 200;
  res.set_header("content-type", "image/png");
  res.body = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe"s;
  const auto doc = parse_document(encode_response(res, payload_version::v2)).as_object();
  EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
  EXPECT_EQ(crypto::base64_decode(std::string(doc.at("body").as_string())), res.body);
  EXPECT_EQ(doc.at("headers").at("content-type").as_string(), "image/png");
}

TEST(EncodeResponse, TextTypeWithInvalidUtf8IsBase64) {
  for (const std::string& bad : {"\xc3"s, "\xed\xa0\x80"s /* surrogate */, "\xc0\xaf"s /* overlong */,
                                "\xf4\x90\x80\x80"s /* above U+10FFFF */}) {
    http::response res;
    res.set_header("content-type", "text/plain");
    res.body = "ok " + bad;
    const auto doc = parse_document(encode_response(res, payload_version::v2)).as_object();
    EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
    EXPECT_EQ(crypto::base64_decode(std::string(doc.at("body").as_string())), res.body);
  }
}

TEST(EncodeResponse, SetCookieHeadersBecomeTheCookiesArrayInPayload2) {
  auto res = http::json_response(200, json::object{{"ok", true}});
  res.headers.emplace_back("set-cookie", "a=1; Path=/; HttpOnly");
  res.headers.emplace_back("set-cookie", "b=2");
  res.headers.emplace_back("vary", "Origin");
  res.headers.emplace_back("vary", "Accept");
  const auto doc = parse_document(encode_response(res, payload_version::v2)).as_object();
  EXPECT_EQ(doc.at("cookies"), (json::array{"a=1; Path=/; HttpOnly", "b=2"}));
  EXPECT_FALSE(doc.at("headers").as_object().contains("set-cookie"));
  EXPECT_EQ(doc.at("headers").at("vary").as_string(), "Origin, Accept");
}

TEST(EncodeResponse, RepeatedHeadersUseMultiValueHeadersInPayload1) {
  auto res = http::json_response(200, json::object{{"ok", true}});
  res.headers.emplace_back("set-cookie", "a=1");
  res.headers.emplace_back("set-cookie", "b=2");
  res.headers.emplace_back("set-cookie", "c=3");
  const auto doc = parse_document(encode_response(res, payload_version::v1)).as_object();
  EXPECT_FALSE(doc.contains("cookies"));
  EXPECT_EQ(doc.at("multiValueHeaders").at("set-cookie"), (json::array{"a=1", "b=2", "c=3"}));
  EXPECT_FALSE(doc.at("headers").as_object().contains("set-cookie"));
  EXPECT_EQ(doc.at("headers").at("content-type").as_string(), "application/json; charset=utf-8");
}

TEST(EncodeResponse, NoContentHasAnEmptyTextBody) {
  auto res = http::empty_response(204);
  res.set_header("x-request-id", "r");
  for (const auto version : {payload_version::v2, payload_version::v1}) {
    const auto doc = parse_document(encode_response(res, version)).as_object();
    EXPECT_EQ(doc.at("statusCode").as_int64(), 204);
    EXPECT_EQ(doc.at("body").as_string(), "");
    EXPECT_FALSE(doc.at("isBase64Encoded").as_bool());
  }
}

}  // namespace
}  // namespace gatehouse::lambda
