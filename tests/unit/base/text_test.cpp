#include "base/text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

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

TEST(parse_digits, takes_plain_digits_only) {
  int n = -1;
  EXPECT_TRUE(parse_digits("0", n));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(parse_digits("0443", n));
  EXPECT_EQ(n, 443);
  EXPECT_TRUE(parse_digits("999999999", n));
  EXPECT_EQ(n, 999999999);
  n = 7;
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1a", "0x1", "1234567890"}) {
    EXPECT_FALSE(parse_digits(bad, n)) << bad;
    EXPECT_EQ(n, 7) << bad;  // left as it was
  }
}

TEST(hex_value, reads_either_case_and_refuses_the_rest) {
  EXPECT_EQ(hex_value('0'), 0);
  EXPECT_EQ(hex_value('9'), 9);
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('g'), -1);
  EXPECT_EQ(hex_value('G'), -1);
  EXPECT_EQ(hex_value('%'), -1);
  EXPECT_EQ(hex_value('\0'), -1);
}

TEST(percent_decode, decodes_escapes_and_refuses_a_malformed_one) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%2f"), "a b/c/");
  EXPECT_EQ(percent_decode("%00%FF"), "\0\xff"s);
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("ab%4"), std::nullopt);  // cut short at the end
  EXPECT_EQ(percent_decode("%4g"), std::nullopt);
  EXPECT_EQ(percent_decode("%g4"), std::nullopt);
  EXPECT_EQ(percent_decode("100%"), std::nullopt);
  EXPECT_EQ(percent_decode("%2541"), "%41");  // decoded once, never twice
}

TEST(percent_decode, turns_plus_into_space_only_when_asked) {
  EXPECT_EQ(percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(percent_decode("a+b%2B", false), "a+b+");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(percent_encode, keeps_unreserved_characters_and_writes_upper_case_hex) {
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode("a b+c/d%"), "a%20b%2Bc%2Fd%25");
  EXPECT_EQ(percent_encode("a/b c", true), "a/b%20c");
  EXPECT_EQ(percent_encode("\xE1\x88\xB4\x00"s), "%E1%88%B4%00");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(percent_encode, round_trips_through_percent_decode) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte.push_back(static_cast<char>(c));
  EXPECT_EQ(percent_decode(percent_encode(every_byte)), every_byte);
  EXPECT_EQ(percent_decode(percent_encode(every_byte, true)), every_byte);
}

TEST(percent_decode_lenient, keeps_a_malformed_percent_literally) {
  EXPECT_EQ(percent_decode_lenient("a%20b"), "a b");
  EXPECT_EQ(percent_decode_lenient("%"), "%");
  EXPECT_EQ(percent_decode_lenient("100%"), "100%");
  EXPECT_EQ(percent_decode_lenient("%4"), "%4");
  EXPECT_EQ(percent_decode_lenient("%zz%41"), "%zzA");
  EXPECT_EQ(percent_decode_lenient("%%41"), "%A");
  EXPECT_EQ(percent_decode_lenient("a+b"), "a+b");  // SigV4: '+' is a plus
}

// The one strict UTF-8 decoder of users/validation, mail headers and JSON.
TEST(utf8_at, reads_each_length_and_refuses_what_strict_utf8_forbids) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a, é, €, 😀
  const std::vector<std::pair<std::uint32_t, std::size_t>> expected{{0x61, 1}, {0xE9, 2}, {0x20AC, 3}, {0x1F600, 4}};
  std::size_t i = 0;
  for (const auto& [value, length] : expected) {
    const auto cp = utf8_at(text, i);
    ASSERT_TRUE(cp) << i;
    EXPECT_EQ(cp->value, value);
    EXPECT_EQ(cp->length, length);
    i += cp->length;
  }
  EXPECT_EQ(i, text.size());
  for (const std::string& bad : {std::string("\xC0\xAF"), std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"),
                                std::string("\xF4\x90\x80\x80"), std::string("\x80"), std::string("\xC3"),
                                std::string("\xE2\x82"), std::string("\xFF")}) {
    EXPECT_FALSE(utf8_at(bad, 0)) << "overlong, surrogate, above U+10FFFF, stray or cut short";
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8(text));
}

}  // namespace
}  // namespace gatehouse::text
