// The sign-up field rules of POST /signup (shared/API.md): what each
// normaliser returns for good input, and that bad input fails as
// validation_failed naming the right field (the 400 a client would see).
#include "users/validation.hpp"

#include "base/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::users {
namespace {

using namespace std::string_literals;

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// Passes only for error_kind::invalid_argument, code "validation_failed"
// and the given field.
template <class F>
::testing::AssertionResult fails_validation(F&& call, std::string_view field) {
  try {
    call();
  } catch (const error& e) {
    if (e.kind() == error_kind::invalid_argument && e.code() == "validation_failed" &&
        e.field() == field)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "threw kind " << static_cast<int>(e.kind()) << " code '" << e.code() << "' field '"
           << e.field() << "' (" << e.what() << ")";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-gatehouse exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// Shows bytes as escapes so a failing case is readable.
std::string show(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
  return out + "\" (" + std::to_string(s.size()) + " bytes)";
}

struct accepted {
  std::string input;
  std::string expected;
};

// --- name -----------------------------------------------------------------

const std::string e_acute = "\xC3\xA9";           // U+00E9, 2 bytes
const std::string emoji = "\xF0\x9F\x98\x80";     // U+1F600, 4 bytes

TEST(normalize_name, trims_ascii_whitespace_at_both_ends_and_keeps_inner_spaces) {
  const std::vector<accepted> cases = {
      {"Ada", "Ada"},
      {"  Ada  ", "Ada"},
      {"\tAda\t", "Ada"},
      {"\n\r Ada Lovelace \r\n", "Ada Lovelace"},
      {"Ada  Lovelace", "Ada  Lovelace"},
      {" \t\n" + e_acute + "mile" + " \n", e_acute + "mile"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_name(c.input), c.expected) << show(c.input);
}

TEST(normalize_name, accepts_1_and_100_characters) {
  EXPECT_EQ(normalize_name("A"), "A");
  EXPECT_EQ(normalize_name(repeat("a", 100)), repeat("a", 100));
  // The limit applies after trimming.
  EXPECT_EQ(normalize_name("   " + repeat("a", 100) + "\n"), repeat("a", 100));
}

TEST(normalize_name, rejects_101_characters) {
  EXPECT_TRUE(fails_validation([] { (void)normalize_name(repeat("a", 101)); }, "name"));
}

TEST(normalize_name, counts_code_points_not_bytes) {
  // 100 x U+00E9 is 200 bytes and 100 x U+1F600 is 400 bytes: both within 100 characters.
  EXPECT_EQ(normalize_name(repeat(e_acute, 100)), repeat(e_acute, 100));
  EXPECT_EQ(normalize_name(repeat(emoji, 100)), repeat(emoji, 100));
  EXPECT_EQ(normalize_name(repeat(emoji, 99) + "a"), repeat(emoji, 99) + "a");
  EXPECT_TRUE(fails_validation([] { (void)normalize_name(repeat(emoji, 101)); }, "name"));
  EXPECT_TRUE(fails_validation([] { (void)normalize_name(repeat(e_acute, 101)); }, "name"));
}

TEST(normalize_name, rejects_empty_and_all_whitespace) {
  for (const std::string& input : {""s, " "s, "     "s, "\t\n\r "s, "\v\f"s})
    EXPECT_TRUE(fails_validation([&] { (void)normalize_name(input); }, "name")) << show(input);
}

TEST(normalize_name, rejects_control_characters_inside) {
  const std::vector<std::string> inputs = {
      "\x01"s,
      "Ada\x01Lovelace"s,
      "Ada\x7f"s,                // DEL
      "Ada\xC2\x85Lovelace"s,    // U+0085 NEL, a C1 control
      "Ada\xC2\x9F"s,            // U+009F, last C1 control
      "Ada\tLovelace"s,          // tab is trimmed at the ends, refused inside
      "Ada\nLovelace"s,
      "Ada\0Lovelace"s,
  };
  for (const auto& input : inputs)
    EXPECT_TRUE(fails_validation([&] { (void)normalize_name(input); }, "name")) << show(input);
  // The neighbours of the C1 range are ordinary characters.
  EXPECT_EQ(normalize_name("\xC2\xA0" "Ada"s), "\xC2\xA0" "Ada"s);  // U+00A0
  EXPECT_EQ(normalize_name("~Ada~"), "~Ada~");                        // 0x7E
}

TEST(normalize_name, rejects_invalid_utf8) {
  const std::vector<std::string> inputs = {
      "\xFF"s,                     // never valid in UTF-8
      "Ada\xFF"s,
      "\x80"s,                     // lone continuation byte
      "Ada\xE2\x82"s,              // truncated 3-byte sequence (U+20AC without its last byte)
      "\xE2\x82" "Ada"s,           // truncated, followed by ASCII
      "\xF0\x9F\x98"s,             // truncated 4-byte sequence
      "\xC0\xAF"s,                 // overlong '/'
      "\xE0\x80\xAF"s,             // overlong '/' in 3 bytes
      "\xED\xA0\x80"s,             // U+D800, a surrogate
      "\xED\xBF\xBF"s,             // U+DFFF, a surrogate
      "\xF4\x90\x80\x80"s,         // U+110000, beyond Unicode
      "\xF8\x88\x80\x80\x80"s,     // 5-byte form
  };
  for (const auto& input : inputs)
    EXPECT_TRUE(fails_validation([&] { (void)normalize_name(input); }, "name")) << show(input);
  // The valid extremes right next to those are accepted.
  // Valid UTF-8 near those edges (U+D7FF and U+10FFFF themselves are
  // unassigned, refused by the rule below): U+D7FB, and U+E01EF, the
  // highest assigned code point outside private use.
  EXPECT_EQ(normalize_name("\xED\x9F\xBB"s), "\xED\x9F\xBB"s);
  EXPECT_EQ(normalize_name("a\xF3\xA0\x87\xAF"s), "a\xF3\xA0\x87\xAF"s);
}

TEST(normalize_name, stores_nfc_so_a_decomposed_accent_becomes_one_character) {
  // "e" + U+0301 COMBINING ACUTE ACCENT is stored as U+00E9.
  EXPECT_EQ(normalize_name("Rene\xCC\x81"s), "Ren" + e_acute);
  EXPECT_EQ(normalize_name("Ren" + e_acute), "Ren" + e_acute) << "already NFC: unchanged";
  // Hangul jamo compose too: U+1100 U+1161 is U+AC00.
  EXPECT_EQ(normalize_name("\xE1\x84\x80\xE1\x85\xA1"s), "\xEA\xB0\x80"s);
  // A combining mark with no precomposed form stays, and counts.
  EXPECT_EQ(normalize_name("x\xCC\x81"s), "x\xCC\x81"s);
}

TEST(normalize_name, counts_the_100_characters_after_nfc) {
  // 100 x (e + U+0301) is 200 code points sent, 100 characters stored.
  const std::string decomposed = repeat("e\xCC\x81"s, 100);
  EXPECT_EQ(normalize_name(decomposed), repeat(e_acute, 100));
  EXPECT_TRUE(fails_validation([&] { (void)normalize_name(decomposed + "e\xCC\x81"s); }, "name"));
  // Marks that do not compose count one each: 50 x (x + U+0301) is 100; one more is 101.
  EXPECT_EQ(normalize_name(repeat("x\xCC\x81"s, 50)), repeat("x\xCC\x81"s, 50));
  EXPECT_TRUE(fails_validation([&] { (void)normalize_name(repeat("x\xCC\x81"s, 50) + "a"); }, "name"));
  // Far too long is refused before it is normalised, with the same answer.
  EXPECT_TRUE(fails_validation([&] { (void)normalize_name(repeat("a", 100000)); }, "name"));
}

TEST(normalize_name, rejects_format_characters_that_hide_or_reorder_text) {
  const std::vector<std::string> inputs = {
      "Ada\xE2\x80\xAEnmaI"s,     // U+202E RIGHT-TO-LEFT OVERRIDE
      "\xE2\x80\xAD" "Ada"s,      // U+202D LEFT-TO-RIGHT OVERRIDE
      "Ada\xE2\x81\xA6x"s,        // U+2066 LEFT-TO-RIGHT ISOLATE
      "Ad\xE2\x80\x8B" "a"s,         // U+200B ZERO WIDTH SPACE
      "Ad\xE2\x80\x8D" "a"s,         // U+200D ZERO WIDTH JOINER
      "\xEF\xBB\xBF" "Ada"s,      // U+FEFF BOM / ZERO WIDTH NO-BREAK SPACE
      "Ada\xEF\xBB\xBF"s,
      "Ad\xC2\xAD" "a"s,             // U+00AD SOFT HYPHEN
      "Ada\xF3\xA0\x80\x81"s,    // U+E0001 LANGUAGE TAG
  };
  for (const auto& input : inputs)
    EXPECT_TRUE(fails_validation([&] { (void)normalize_name(input); }, "name")) << show(input);
}

TEST(normalize_name, rejects_nul_separators_private_use_and_unassigned_code_points) {
  const std::vector<std::string> inputs = {
      "\0"s,                        // U+0000
      "Ada\0"s,
      "Ada\xE2\x80\xA8Lovelace"s, // U+2028 LINE SEPARATOR
      "Ada\xE2\x80\xA9Lovelace"s, // U+2029 PARAGRAPH SEPARATOR
      "Ada\xEE\x80\x80"s,         // U+E000, private use
      "\xF3\xB0\x80\x80"s,       // U+F0000, supplementary private use
      "Ada\xCD\xB8"s,              // U+0378, unassigned
      "Ada\xF0\xBF\xBF\xBD"s,    // U+3FFFD, unassigned
      "Ada\xEF\xBF\xBE"s,         // U+FFFE, a noncharacter
      "\xF4\x8F\xBF\xBF"s,       // U+10FFFF, a noncharacter
  };
  for (const auto& input : inputs)
    EXPECT_TRUE(fails_validation([&] { (void)normalize_name(input); }, "name")) << show(input);
  // Ordinary letters, marks, symbols and emoji of many scripts stay.
  for (const std::string& ok : {"Zo\xC3\xAB"s, "\xE5\xB1\xB1\xE7\x94\xB0"s, "\xD8\xB9\xD9\x84\xD9\x8A"s,
                                "\xF0\x9F\x98\x80 Ada"s, "O'Brien-Smith Jr."s})
    EXPECT_EQ(normalize_name(ok), ok) << show(ok);
}

// --- email ----------------------------------------------------------------

// `n` bytes in all: "aaa...@example.com".
std::string email_of_length(std::size_t n) {
  const std::string domain = "@example.com";
  return repeat("a", n - domain.size()) + domain;
}

TEST(normalize_email, trims_and_lower_cases) {
  const std::vector<accepted> cases = {
      {"  Ada@Example.COM ", "ada@example.com"},
      {"ada@example.com", "ada@example.com"},
      {"\tADA.LOVELACE+tag@Sub.Example.Org\r\n", "ada.lovelace+tag@sub.example.org"},
      {"a@b.c", "a@b.c"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_email(c.input), c.expected) << show(c.input);
}

TEST(normalize_email, accepts_254_bytes_and_rejects_255) {
  ASSERT_EQ(email_of_length(254).size(), 254u);
  EXPECT_EQ(normalize_email(email_of_length(254)), email_of_length(254));
  // The limit applies after trimming.
  EXPECT_EQ(normalize_email("  " + email_of_length(254) + " "), email_of_length(254));
  EXPECT_TRUE(fails_validation([] { (void)normalize_email(email_of_length(255)); }, "email"));
}

TEST(normalize_email, rejects_malformed_addresses) {
  const std::vector<std::string> inputs = {
      ""s,
      "   "s,
      "adaexample.com"s,             // no @
      "ada@@example.com"s,           // two @
      "ada@foo@example.com"s,        // two @ apart
      "@example.com"s,               // empty local part
      "ada@"s,                       // empty domain
      "ada@examplecom"s,             // no dot in the domain
      "ada.lovelace@localhost"s,     // the dot is in the local part only
      "ada@.example.com"s,           // domain starts with a dot
      "ada@example.com."s,           // domain ends with a dot
      "ada@."s,
      "ada@example..com"s,           // ".." in the domain
      "ada lovelace@example.com"s,   // space inside
      "ada@exa mple.com"s,
      "ada\t@example.com"s,          // tab inside
      "ada\x01@example.com"s,        // control characters
      "ada@example.com\x7f"s,
      "ada@example.com\0"s,          // NUL is not trimmed away
      "ada\xC2\x85@example.com"s,    // U+0085, a C1 control
      "ada\xFF@example.com"s,        // invalid UTF-8
      "ada@exampl\xC3.com"s,         // truncated UTF-8
  };
  for (const auto& input : inputs)
    EXPECT_TRUE(fails_validation([&] { (void)normalize_email(input); }, "email")) << show(input);
}

TEST(normalize_email, keeps_valid_non_ascii_bytes_as_they_are) {
  // Only ASCII letters are lower-cased; UTF-8 passes through untouched.
  EXPECT_EQ(normalize_email("Zo\xC3\xAB@Example.com"s), "zo\xC3\xAB@example.com"s);
}

// --- password -------------------------------------------------------------

TEST(check_password, accepts_8_and_72_bytes) {
  EXPECT_NO_THROW(check_password(repeat("p", 8)));
  EXPECT_NO_THROW(check_password(repeat("p", 72)));
  // Not trimmed: surrounding spaces count and are allowed.
  EXPECT_NO_THROW(check_password("  pass  "));
}

TEST(check_password, rejects_7_and_73_bytes) {
  EXPECT_TRUE(fails_validation([] { check_password(""); }, "password"));
  EXPECT_TRUE(fails_validation([] { check_password(repeat("p", 7)); }, "password"));
  EXPECT_TRUE(fails_validation([] { check_password(repeat("p", 73)); }, "password"));
}

TEST(check_password, rejects_a_nul_byte_anywhere) {
  // bcrypt would stop at the NUL and hash a shorter password than the user typed.
  for (const std::string& input : {"pass\0word"s, "\0password"s, "password\0"s, repeat("p", 71) + "\0"s})
    EXPECT_TRUE(fails_validation([&] { check_password(input); }, "password")) << show(input);
}

TEST(check_password, counts_bytes_not_characters) {
  const std::string euro = "\xE2\x82\xAC";  // U+20AC, 3 bytes
  EXPECT_NO_THROW(check_password(repeat(euro, 24)));  // 72 bytes
  EXPECT_TRUE(fails_validation([&] { check_password(repeat(euro, 25)); }, "password"));  // 75 bytes
  EXPECT_NO_THROW(check_password(repeat(euro, 3)));  // 3 characters, 9 bytes
  EXPECT_TRUE(fails_validation([&] { check_password(repeat(euro, 2) + "a"); }, "password"));  // 7 bytes
}

}  // namespace
}  // namespace gatehouse::users
