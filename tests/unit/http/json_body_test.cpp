#include "http/json_body.hpp"

#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::http {
namespace {

using gatehouse::testing::throws_error;
using namespace std::string_literals;

request json_request(std::string body, std::optional<std::string> content_type = "application/json") {
  request r;
  r.method = "POST";
  r.path = "/signup";
  if (content_type) r.headers.emplace_back("content-type", *content_type);
  r.body = std::move(body);
  return r;
}

::testing::AssertionResult fails_with(const request& r, error_kind kind, std::string_view code) {
  return throws_error([&] { (void)parse_json_object(r); }, kind, code);
}

::testing::AssertionResult is_invalid_json(std::string body) {
  return fails_with(json_request(std::move(body)), error_kind::invalid_argument, "invalid_json");
}

TEST(parse_json_object, needs_a_json_content_type) {
  const auto unsupported = error_kind::unsupported_media_type;
  EXPECT_TRUE(fails_with(json_request("{}", std::nullopt), unsupported, "unsupported_media_type"));
  EXPECT_TRUE(fails_with(json_request("{}", "text/plain"), unsupported, "unsupported_media_type"));
  EXPECT_TRUE(fails_with(json_request("{}", ""), unsupported, "unsupported_media_type"));
  EXPECT_TRUE(fails_with(json_request("{}", "application/jsonx"), unsupported, "unsupported_media_type"));
  EXPECT_TRUE(fails_with(json_request("{}", "application/json-patch+json"), unsupported,
                         "unsupported_media_type"));
  EXPECT_TRUE(fails_with(json_request("{}", "multipart/form-data; boundary=x"), unsupported,
                         "unsupported_media_type"));
}

TEST(parse_json_object, accepts_parameters_and_any_case_in_the_content_type) {
  for (const std::string ct : {"application/json", "application/json; charset=utf-8",
                               "Application/JSON", " application/json ;charset=UTF-8"}) {
    const auto obj = parse_json_object(json_request(R"({"a":"b"})", ct));
    EXPECT_EQ(obj.at("a"), "b") << ct;
  }
}

TEST(parse_json_object, limits_the_body_to_64_kib) {
  // Exactly 64 KiB is fine; one byte more is 413.
  const std::string prefix = R"({"a":")";
  const std::string suffix = R"("})";
  std::string body = prefix + std::string(64 * 1024 - prefix.size() - suffix.size(), 'x') + suffix;
  ASSERT_EQ(body.size(), 64u * 1024);
  EXPECT_EQ(parse_json_object(json_request(body)).at("a").as_string().size(), body.size() - 8);
  body.insert(prefix.size(), "x");
  EXPECT_TRUE(fails_with(json_request(body), error_kind::payload_too_large, "payload_too_large"));
}

TEST(parse_json_object, rejects_malformed_json) {
  EXPECT_TRUE(is_invalid_json(""));
  EXPECT_TRUE(is_invalid_json("{"));
  EXPECT_TRUE(is_invalid_json(R"({"a":)"));
  EXPECT_TRUE(is_invalid_json(R"({"a":1,})"));
  EXPECT_TRUE(is_invalid_json(R"({'a':1})"));
  EXPECT_TRUE(is_invalid_json(R"({"a":1} x)"));
  EXPECT_TRUE(is_invalid_json(R"({"a":1}{})"));
  EXPECT_TRUE(is_invalid_json("{\"a\":1}\0"s));
}

TEST(parse_json_object, needs_an_object_at_the_top) {
  EXPECT_TRUE(is_invalid_json("[1,2]"));
  EXPECT_TRUE(is_invalid_json("[]"));
  EXPECT_TRUE(is_invalid_json(R"("string")"));
  EXPECT_TRUE(is_invalid_json("42"));
  EXPECT_TRUE(is_invalid_json("null"));
}

TEST(parse_json_object, rejects_invalid_utf8) {
  EXPECT_TRUE(is_invalid_json("{\"a\":\"\xff\"}"));
  EXPECT_TRUE(is_invalid_json("{\"a\":\"\xc3\"}"));          // truncated sequence
  EXPECT_TRUE(is_invalid_json("{\"a\":\"\xed\xa0\x80\"}"));  // UTF-16 surrogate
  EXPECT_TRUE(is_invalid_json("{\"a\":\"\xc0\xaf\"}"));      // overlong '/'
  EXPECT_EQ(parse_json_object(json_request("{\"a\":\"caf\xc3\xa9\"}")).at("a"), "caf\xc3\xa9");
}

TEST(parse_json_object, rejects_deep_nesting) {
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(10000, '}');
  EXPECT_TRUE(is_invalid_json(objects));
  const std::string arrays = "{\"a\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_TRUE(is_invalid_json(arrays));
  // Modest nesting is still fine.
  const std::string modest = "{\"a\":" + std::string(8, '[') + std::string(8, ']') + "}";
  EXPECT_TRUE(parse_json_object(json_request(modest)).at("a").is_array());
}

TEST(required_string, returns_a_present_string) {
  const auto obj = parse_json_object(json_request(R"({"email":"ada@example.com","n":1})"));
  EXPECT_EQ(required_string(obj, "email"), "ada@example.com");
}

TEST(required_string, missing_or_non_string_is_validation_failed_with_field) {
  const auto obj = parse_json_object(
      json_request(R"({"n":1,"z":null,"arr":["x"],"obj":{"a":"b"},"t":true})"));
  for (const char* name : {"email", "n", "z", "arr", "obj", "t"}) {
    EXPECT_TRUE(throws_error([&] { (void)required_string(obj, name); }, error_kind::invalid_argument,
                             "validation_failed", name));
  }
}

}  // namespace
}  // namespace gatehouse::http
