#include "http/request.hpp"

#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

using namespace std::string_literals;

std::optional<std::string> some(std::string s) { return s; }

TEST(percent_decode, decodes_valid_escapes_in_either_case) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%2f", false), some("a b/c/"));
  EXPECT_EQ(percent_decode("%41%62", false), some("Ab"));
  EXPECT_EQ(percent_decode("", false), some(""));
  EXPECT_EQ(percent_decode("plain", false), some("plain"));
  EXPECT_EQ(percent_decode("%00", false), some("\0"s));
  EXPECT_EQ(percent_decode("%FF", false), some("\xff"s));
}

TEST(percent_decode, rejects_malformed_escapes) {
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("abc%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4g", false), std::nullopt);
  EXPECT_EQ(percent_decode("%g4", false), std::nullopt);
  EXPECT_EQ(percent_decode("ok%", true), std::nullopt);
}

TEST(percent_decode, plus_is_a_space_only_when_asked) {
  EXPECT_EQ(percent_decode("a+b", true), some("a b"));
  EXPECT_EQ(percent_decode("a+b", false), some("a+b"));
  EXPECT_EQ(percent_decode("a%2Bb", true), some("a+b"));
}

request with_query(std::string q) {
  request r;
  r.query = std::move(q);
  return r;
}

TEST(query_param, returns_the_first_value) {
  EXPECT_EQ(with_query("limit=10&limit=20").query_param("limit"), some("10"));
  EXPECT_EQ(with_query("a=1&limit=5").query_param("limit"), some("5"));
  EXPECT_EQ(with_query("&&limit=5&").query_param("limit"), some("5"));
}

TEST(query_param, missing_is_nullopt) {
  EXPECT_EQ(with_query("").query_param("limit"), std::nullopt);
  EXPECT_EQ(with_query("limits=1&xlimit=2").query_param("limit"), std::nullopt);
}

TEST(query_param, an_empty_value_is_an_empty_string) {
  EXPECT_EQ(with_query("limit=").query_param("limit"), some(""));
  EXPECT_EQ(with_query("limit&x=1").query_param("limit"), some(""));
}

TEST(query_param, names_and_values_are_percent_decoded) {
  EXPECT_EQ(with_query("li%6Dit=1").query_param("limit"), some("1"));
  EXPECT_EQ(with_query("cursor=a%2Bb+c%3D").query_param("cursor"), some("a+b c="));
  EXPECT_EQ(with_query("a%3Db=1").query_param("a=b"), some("1"));
}

TEST(query_param, a_malformed_value_comes_back_raw_for_validation_to_reject) {
  EXPECT_EQ(with_query("cursor=%zz").query_param("cursor"), some("%zz"));
  // A malformed name matches nothing.
  EXPECT_EQ(with_query("lim%it=1").query_param("lim%it"), std::nullopt);
}

TEST(request_header, returns_the_first_value_by_lower_case_name) {
  request r;
  r.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  EXPECT_EQ(r.header("x-a"), std::optional<std::string_view>("1"));
  EXPECT_EQ(r.header("x-b"), std::optional<std::string_view>("2"));
  EXPECT_EQ(r.header("x-c"), std::nullopt);
}

}  // namespace
}  // namespace gatehouse::http
