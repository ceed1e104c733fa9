// AES-256-GCM against the GCM specification's own vectors (McGrew and
// Viega, "The Galois/Counter Mode of Operation", appendix B, test cases 13
// to 16: the 256-bit key), then what a store would try: altered bytes,
// another record's associated data, another key, truncation.
#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gatehouse::crypto {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

struct vector_case {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

const vector_case spec_cases[] = {
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(aead, seals_the_gcm_specification_vectors) {
  for (const auto& c : spec_cases) {
    const auto sealed = aead_seal_with_nonce(from_hex(c.key), from_hex(c.nonce), from_hex(c.plaintext), from_hex(c.aad));
    EXPECT_EQ(to_hex(sealed), std::string(c.nonce) + c.ciphertext + c.tag) << c.name;
    const auto opened = aead_open(from_hex(c.key), sealed, from_hex(c.aad));
    ASSERT_TRUE(opened) << c.name;
    EXPECT_EQ(to_hex(*opened), c.plaintext) << c.name;
  }
}

const std::string key = std::string(32, '\x42');

TEST(aead, every_seal_has_a_fresh_nonce) {
  const auto a = aead_seal(key, "the same answer", "record 1");
  const auto b = aead_seal(key, "the same answer", "record 1");
  EXPECT_EQ(a.size(), aead_overhead + 15);
  EXPECT_NE(a.substr(0, aead_nonce_bytes), b.substr(0, aead_nonce_bytes));
  EXPECT_NE(a, b);
  EXPECT_EQ(aead_open(key, a, "record 1"), "the same answer");
  EXPECT_EQ(aead_open(key, b, "record 1"), "the same answer");
}

TEST(aead, refuses_altered_moved_or_foreign_values) {
  const auto sealed = aead_seal(key, "a stored answer with a refresh token", "record 1");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_FALSE(aead_open(key, altered, "record 1")) << "byte " << i << " altered";
  }
  EXPECT_FALSE(aead_open(key, sealed, "record 2")) << "copied onto another record";
  EXPECT_FALSE(aead_open(std::string(32, '\x43'), sealed, "record 1")) << "another key";
  EXPECT_FALSE(aead_open(key, sealed.substr(0, sealed.size() - 1), "record 1"));
  EXPECT_FALSE(aead_open(key, sealed.substr(0, aead_overhead - 1), "record 1"));
  EXPECT_FALSE(aead_open(key, "", "record 1"));
}

TEST(aead, refuses_a_key_of_another_size) {
  EXPECT_THROW(aead_seal(std::string(16, 'k'), "x", ""), std::invalid_argument);
  EXPECT_THROW(aead_open(std::string(31, 'k'), std::string(40, 'x'), ""), std::invalid_argument);
  EXPECT_THROW(aead_seal_with_nonce(key, std::string(8, 'n'), "x", ""), std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::crypto
