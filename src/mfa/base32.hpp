#pragma once
// RFC 4648 section 6 base32, the form authenticator apps take a TOTP
// secret in (typed by hand or inside an otpauth:// URI).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mfa {

// Longer text is refused by base32_decode before any work: a TOTP secret
// is 32 characters, and nothing here decodes more than a few hundred.
inline constexpr std::size_t max_base32_text = 1024;

// Upper case, without padding: Google's Key Uri Format says the padding
// "should be omitted", and people type what they are shown.
std::string base32_encode(std::string_view bytes);

// Accepts either case and, optionally, the complete padding to a multiple
// of 8 characters. nullopt for any other byte, misplaced or partial
// padding, a length no encoder produces, or non-zero trailing bits (so
// every byte string has one accepted spelling, but for case and padding).
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace gatehouse::mfa
