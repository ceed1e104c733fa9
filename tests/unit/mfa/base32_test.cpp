// RFC 4648 base32: the section 10 vectors both ways, the forms a decoder
// may accept (either case, complete padding) and every other one refused.
#include "mfa/base32.hpp"

#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace gatehouse::mfa {
namespace {

struct vector_case {
  const char* bytes;
  const char* padded;  // as RFC 4648 section 10 prints it
};

const vector_case rfc4648_section_10[] = {
    {"", ""},
    {"f", "MY======"},
    {"fo", "MZXQ===="},
    {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======"},
};

std::string unpadded(std::string s) { return s.substr(0, s.find('=')); }

TEST(mfa_base32, encodes_the_rfc4648_vectors_without_padding) {
  for (const auto& c : rfc4648_section_10) EXPECT_EQ(base32_encode(c.bytes), unpadded(c.padded)) << c.bytes;
}

TEST(mfa_base32, decodes_the_rfc4648_vectors_with_and_without_padding_in_either_case) {
  for (const auto& c : rfc4648_section_10) {
    EXPECT_EQ(base32_decode(c.padded), c.bytes) << c.padded;
    EXPECT_EQ(base32_decode(unpadded(c.padded)), c.bytes) << c.padded;
    std::string lower = c.padded;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(base32_decode(lower), c.bytes) << lower;
  }
}

TEST(mfa_base32, decodes_the_key_uri_formats_example) {
  // Google's Key Uri Format page: JBSWY3DPEHPK3PXP is "Hello!" DE AD BE EF.
  EXPECT_EQ(base32_decode("JBSWY3DPEHPK3PXP"), std::string("Hello!\xDE\xAD\xBE\xEF"));
}

TEST(mfa_base32, round_trips_every_length_up_to_40_bytes) {
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string bytes = crypto::random_bytes(n);
    const std::string text = base32_encode(bytes);
    EXPECT_EQ(text.size(), (n * 8 + 4) / 5) << n;
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos) << text;
    EXPECT_EQ(base32_decode(text), bytes) << n;
  }
  EXPECT_EQ(base32_encode(std::string(20, '\0')).size(), 32u) << "a TOTP secret is 32 characters";
}

TEST(mfa_base32, refuses_what_no_encoder_writes) {
  for (const char* text : {
           "M",                  // 1 character past a group: 5 bits, no byte
           "MZX",                // 3: 15 bits, one byte and 7 bits over
           "MZXW6Y",             // 6
           "MZ======",           // trailing bits set ('Z' carries bits past the byte)
           "MY=====",            // padding that does not reach a multiple of 8
           "MY=======",          // padding past it
           "M=======",           // padding after an impossible length
           "MY==M===",           // padding inside
           "========",           // a whole group of padding
           "MZXW6YTB========",   // padding after a full group
           "MZXW6YT1",           // 1, 8, 9 and 0 are not in the alphabet
           "MZXW6YT8", "MZXW6YT0", "MZXW 6YTB", "MZXW-6YTB", "MZXW6YTB\n", "MZXW6YT\xC3\x89"}) {
    EXPECT_EQ(base32_decode(text), std::nullopt) << text;
  }
}

TEST(mfa_base32, refuses_text_over_the_bound_before_decoding) {
  EXPECT_TRUE(base32_decode(std::string(max_base32_text, 'A')));
  EXPECT_EQ(base32_decode(std::string(max_base32_text + 8, 'A')), std::nullopt);
}

}  // namespace
}  // namespace gatehouse::mfa
