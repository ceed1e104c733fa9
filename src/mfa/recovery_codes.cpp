#include "mfa/recovery_codes.hpp"

#include "base/text.hpp"
#include "crypto/crypto.hpp"
#include "mfa/base32.hpp"

#include <algorithm>
#include <stdexcept>

namespace gatehouse::mfa {
namespace {

void check_inputs(std::string_view key, std::string_view user_id) {
  if (key.size() != recovery_code_key_bytes) throw std::invalid_argument("recovery codes: the key must be 32 bytes");
  if (user_id.empty()) throw std::invalid_argument("recovery codes: the user id is empty");
}

// 60 random bits as 12 base32 characters: the first 12 of the encoding of
// 8 random bytes (its 13th would carry the 4 bits left over).
std::string new_normalized_code() {
  return text::ascii_lower(base32_encode(crypto::random_bytes(8)).substr(0, recovery_code_chars));
}

std::string displayed(std::string_view normalized) {
  return std::string(normalized.substr(0, 4)) + '-' + std::string(normalized.substr(4, 4)) + '-' +
         std::string(normalized.substr(8, 4));
}

bool is_lower_base32(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

}  // namespace

std::string hash_recovery_code(std::string_view key, std::string_view user_id, std::string_view normalized_code) {
  check_inputs(key, user_id);
  // The code has a fixed length and comes last, so user id and code cannot
  // be shifted into one another; the separator is for whoever reads this.
  const std::string message = std::string(user_id) + '\n' + std::string(normalized_code);
  return crypto::to_hex(crypto::hmac_sha256(key, message));
}

recovery_code_set new_recovery_codes(std::string_view key, std::string_view user_id) {
  check_inputs(key, user_id);
  recovery_code_set set;
  std::vector<std::string> normalized;
  // Distinct, so "which code matched" has one answer; a repeat of 60 random
  // bits is as good as impossible, and the loop bounded all the same.
  for (int attempts = 0; normalized.size() < recovery_code_count && attempts < 1000; ++attempts) {
    std::string code = new_normalized_code();
    if (std::find(normalized.begin(), normalized.end(), code) == normalized.end()) normalized.push_back(std::move(code));
  }
  if (normalized.size() != recovery_code_count) throw std::runtime_error("recovery codes: the generator repeats itself");
  for (const auto& code : normalized) {
    set.codes.push_back(displayed(code));
    set.hashes.push_back(hash_recovery_code(key, user_id, code));
  }
  return set;
}

std::optional<std::string> normalize_recovery_code(std::string_view typed) {
  if (typed.size() > max_typed_recovery_code) return std::nullopt;
  std::string out;
  for (const char c : typed) {
    if (c == ' ' || c == '\t' || c == '-') continue;
    const char lower = text::ascii_lower(c);
    if (!is_lower_base32(lower) || out.size() == recovery_code_chars) return std::nullopt;
    out += lower;
  }
  if (out.size() != recovery_code_chars) return std::nullopt;
  return out;
}

std::optional<std::size_t> match_recovery_code(std::string_view key, std::string_view user_id, std::string_view typed,
                                               const std::vector<std::string>& stored_hashes) {
  check_inputs(key, user_id);
  const auto code = normalize_recovery_code(typed);
  if (!code) return std::nullopt;
  const std::string hash = hash_recovery_code(key, user_id, *code);
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < stored_hashes.size(); ++i)
    if (crypto::constant_time_equal(hash, stored_hashes[i]) && !found) found = i;
  return found;
}

}  // namespace gatehouse::mfa
