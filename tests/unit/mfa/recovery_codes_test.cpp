// Recovery codes: ten distinct codes of 60 bits in the xxxx-xxxx-xxxx form,
// only their keyed hashes kept, a forgiving parse of what is typed, and a
// match that says which code it was and nothing for another user or key.
#include "mfa/recovery_codes.hpp"

#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>

namespace gatehouse::mfa {
namespace {

const std::string key(32, '\x07');
const std::string user = "0b6f0a9e-3b7e-4f0e-9c52-8f1d2a4c5e6f";

TEST(mfa_recovery_codes, a_set_is_ten_distinct_codes_in_the_typed_form) {
  const auto set = new_recovery_codes(key, user);
  ASSERT_EQ(set.codes.size(), recovery_code_count);
  ASSERT_EQ(set.hashes.size(), recovery_code_count);
  const std::regex form("[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}");
  for (const auto& code : set.codes) EXPECT_TRUE(std::regex_match(code, form)) << code;
  EXPECT_EQ(std::set<std::string>(set.codes.begin(), set.codes.end()).size(), recovery_code_count);
  EXPECT_EQ(std::set<std::string>(set.hashes.begin(), set.hashes.end()).size(), recovery_code_count);
}

TEST(mfa_recovery_codes, each_code_carries_at_least_50_bits) {
  // 12 characters of a 32-letter alphabet: 60 bits when every character is
  // uniform. Over 200 codes (2400 characters) every letter turns up, and
  // none crowds the others out.
  static_assert(recovery_code_chars * 5 >= 50);
  std::map<char, int> counts;
  for (int i = 0; i < 20; ++i)
    for (const auto& code : new_recovery_codes(key, user).codes)
      for (const char c : code)
        if (c != '-') ++counts[c];
  EXPECT_EQ(counts.size(), 32u);
  for (const auto& [c, n] : counts) EXPECT_LT(n, 150) << c;  // 75 expected
}

TEST(mfa_recovery_codes, only_hashes_are_stored_and_they_reveal_no_code) {
  const auto set = new_recovery_codes(key, user);
  for (std::size_t i = 0; i < set.codes.size(); ++i) {
    const auto normalized = normalize_recovery_code(set.codes[i]).value();
    EXPECT_EQ(set.hashes[i].size(), 64u);
    EXPECT_EQ(set.hashes[i], hash_recovery_code(key, user, normalized));
    EXPECT_NE(set.hashes[i], crypto::to_hex(crypto::sha256(normalized))) << "keyed, not a bare hash";
    for (const auto& h : set.hashes) EXPECT_EQ(h.find(normalized), std::string::npos);
  }
}

TEST(mfa_recovery_codes, matches_the_code_typed_and_says_which) {
  const auto set = new_recovery_codes(key, user);
  for (std::size_t i = 0; i < set.codes.size(); ++i) EXPECT_EQ(match_recovery_code(key, user, set.codes[i], set.hashes), i);
}

TEST(mfa_recovery_codes, ignores_case_spaces_and_dashes_in_what_is_typed) {
  const auto set = new_recovery_codes(key, user);
  std::string code = set.codes[3];
  std::string no_dashes;
  for (const char c : code)
    if (c != '-') no_dashes += c;
  std::string upper = code;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& typed : {no_dashes, upper, " " + no_dashes.substr(0, 6) + " " + no_dashes.substr(6) + "\t",
                                  no_dashes.substr(0, 4) + "--" + no_dashes.substr(4)}) {
    EXPECT_EQ(normalize_recovery_code(typed), no_dashes) << typed;
    EXPECT_EQ(match_recovery_code(key, user, typed, set.hashes), 3u) << typed;
  }
}

TEST(mfa_recovery_codes, refuses_what_is_not_a_code) {
  for (const std::string& typed :
       {std::string(), std::string("abcd-efgh-ijk"), std::string("abcd-efgh-ijklm"), std::string("abcd-efgh-ijk1"),
        std::string("abcd_efgh_ijkl"), std::string("abcd.efgh.ijkl"), std::string("abcd-efgh-ijk\xC3\xA9"),
        std::string("abcd\nefgh-ijkl"), std::string(64, ' ') + "abcdefghijkl"}) {
    EXPECT_EQ(normalize_recovery_code(typed), std::nullopt) << typed;
  }
  EXPECT_EQ(normalize_recovery_code("abcd-efgh-ijkl"), "abcdefghijkl");
}

TEST(mfa_recovery_codes, another_users_or_keys_hashes_match_nothing) {
  const auto set = new_recovery_codes(key, user);
  EXPECT_EQ(match_recovery_code(key, "another-user", set.codes[0], set.hashes), std::nullopt);
  EXPECT_EQ(match_recovery_code(std::string(32, '\x08'), user, set.codes[0], set.hashes), std::nullopt);
  EXPECT_EQ(match_recovery_code(key, user, new_recovery_codes(key, user).codes[0], set.hashes), std::nullopt);
}

TEST(mfa_recovery_codes, a_removed_hash_no_longer_matches) {
  auto set = new_recovery_codes(key, user);
  const std::string used = set.codes[5];
  const auto index = match_recovery_code(key, user, used, set.hashes);
  ASSERT_EQ(index, 5u);
  set.hashes.erase(set.hashes.begin() + static_cast<std::ptrdiff_t>(*index));
  EXPECT_EQ(match_recovery_code(key, user, used, set.hashes), std::nullopt);
  EXPECT_EQ(match_recovery_code(key, user, set.codes[6], set.hashes), 5u) << "the others still work";
}

TEST(mfa_recovery_codes, refuses_a_key_of_another_size_or_an_empty_user) {
  EXPECT_THROW(new_recovery_codes(std::string(31, 'k'), user), std::invalid_argument);
  EXPECT_THROW(new_recovery_codes(key, ""), std::invalid_argument);
  EXPECT_THROW(match_recovery_code(std::string(), user, "abcd-efgh-ijkl", {}), std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::mfa
