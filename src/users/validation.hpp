#pragma once
// The contract's rules for sign-up fields. Each returns the normalised
// value or throws validation_failed naming the field.
#include "base/password_limits.hpp"

#include <string>
#include <string_view>

namespace gatehouse::users {

inline constexpr std::size_t max_name_chars = 100;
inline constexpr std::size_t max_email_bytes = 254;
inline constexpr std::size_t min_password_bytes = 8;

// Trimmed (ASCII whitespace), NFC-normalised; then 1..100 characters
// (code points) of valid UTF-8 with no control, format, line or paragraph
// separator, private-use or unassigned code point (utf8proc's tables).
std::string normalize_name(std::string_view raw);

// Trimmed and lower-cased; at most 254 bytes; `local@domain` with a dot
// inside the domain and no spaces or control characters.
std::string normalize_email(std::string_view raw);

// 8..72 bytes, no NUL byte (bcrypt would silently stop there). `field`
// names the request field in the error ("password", "new_password").
void check_password(std::string_view password, std::string_view field = "password");

}  // namespace gatehouse::users
