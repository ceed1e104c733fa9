#pragma once
// Recovery codes: the way in when the phone is lost. Ten per set, shown
// once at enrolment (and at each regeneration), kept only as keyed hashes,
// each usable once (the caller removes the hash that matched).
//
// A code is 12 characters of lower-case RFC 4648 base32 (a-z, 2-7: no 0, 1,
// 8 or 9 to mistake for o, l, b or g), 60 bits from the CSPRNG, shown as
// xxxx-xxxx-xxxx. 60 bits is beyond any online guessing (login limits and
// the 5-failure challenge cap come on top) and still short to type.
//
// The stored hash is HMAC-SHA256 under a key the caller derives from the
// server secret (crypto::key_purpose::mfa_recovery_codes), over the user id
// and the code: a stolen table yields nothing to try offline without the
// key, and one user's hashes copied onto another's row match nothing.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mfa {

inline constexpr std::size_t recovery_code_count = 10;
inline constexpr std::size_t recovery_code_chars = 12;   // 60 bits
inline constexpr std::size_t recovery_code_key_bytes = 32;
// Typed input longer than this is refused before any work: the shown form
// is 14 bytes, and blanks or dashes a user adds do not take it far.
inline constexpr std::size_t max_typed_recovery_code = 64;

struct recovery_code_set {
  std::vector<std::string> codes;   // xxxx-xxxx-xxxx, for the user's eyes only, once
  std::vector<std::string> hashes;  // what is stored, in the same order (64 hex digits each)
};

// A new set of recovery_code_count distinct codes for `user_id` (non-empty)
// under `key` (recovery_code_key_bytes). std::invalid_argument for a key
// of another size or an empty user id.
recovery_code_set new_recovery_codes(std::string_view key, std::string_view user_id);

// The code's canonical form (12 lower-case base32 characters) from what a
// user typed: case, spaces, tabs and dashes ignored. nullopt for anything
// else, including input over max_typed_recovery_code bytes.
std::optional<std::string> normalize_recovery_code(std::string_view typed);

// The stored hash of a normalized code (the same exceptions as above).
std::string hash_recovery_code(std::string_view key, std::string_view user_id, std::string_view normalized_code);

// Which of `stored_hashes` the typed code is (its index, for the caller to
// remove), or nullopt when it matches none or is not a well-formed code.
// Every stored hash is compared, in constant time, whichever matches.
std::optional<std::size_t> match_recovery_code(std::string_view key, std::string_view user_id, std::string_view typed,
                                               const std::vector<std::string>& stored_hashes);

}  // namespace gatehouse::mfa
