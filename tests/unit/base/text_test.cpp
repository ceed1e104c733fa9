#include "base/text.hpp"

#include <gtest/gtest.h>

namespace gatehouse::text {
namespace {

using namespace std::string_literals;

TEST(ascii_lower, lowers_only_a_to_z) {
  EXPECT_EQ(ascii_lower("Content-Type"), "content-type");
  EXPECT_EQ(ascii_lower("@[`{AZaz09"), "@[`{azaz09");
  EXPECT_EQ(ascii_lower(""), "");
  EXPECT_EQ(ascii_lower('Q'), 'q');
  EXPECT_EQ(ascii_lower('-'), '-');
}

TEST(ascii_lower, leaves_utf8_bytes_alone) {
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // "ÉTé": only the T changes
}

TEST(ascii_iequals, ignores_the_case_of_ascii_letters_only) {
  EXPECT_TRUE(ascii_iequals("Content-Disposition", "content-disposition"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("host", "hosts"));
  EXPECT_FALSE(ascii_iequals("hosts", "host"));
  EXPECT_FALSE(ascii_iequals("[", "{"));  // 0x5B and 0x7B differ by 0x20 but are not letters
  EXPECT_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9"));
}

TEST(ascii_istarts_with, compares_the_prefix_only) {
  EXPECT_TRUE(ascii_istarts_with("Bearer abc", "bearer "));
  EXPECT_TRUE(ascii_istarts_with("BEARER ", "bearer "));
  EXPECT_FALSE(ascii_istarts_with("Bearer", "bearer "));
  EXPECT_FALSE(ascii_istarts_with("Basic abc", "bearer "));
  EXPECT_TRUE(ascii_istarts_with("anything", ""));
}

}  // namespace
}  // namespace gatehouse::text
