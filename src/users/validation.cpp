#include "users/validation.hpp"
#include "base/text.hpp"

#include "base/error.hpp"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>

namespace gatehouse::users {
namespace {

std::string_view trim(std::string_view s) { return text::trim(s, " \t\n\r\v\f"); }

// Decodes one UTF-8 sequence at `s[i]`, advancing `i`; nullopt when it is
// malformed, overlong, a surrogate or beyond U+10FFFF.
std::optional<std::uint32_t> next_code_point(std::string_view s, std::size_t& i) {
  const auto cp = text::utf8_at(s, i);
  if (!cp) return std::nullopt;
  i += cp->length;
  return cp->value;
}

bool is_control(std::uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// A name is shown to other users, so nothing in it may be invisible or
// rearrange what is around it: no controls (Cc), no format characters
// (Cf: bidi overrides and isolates, zero-width spaces and joiners, the
// BOM, soft hyphens, tags), no line or paragraph separators (Zl, Zp), no
// private use (Co: no agreed glyph, so it shows as anything or nothing),
// and nothing unassigned (Cn, noncharacters included) in the Unicode
// version of the linked utf8proc: a later version may give it any meaning.
// Surrogates (Cs) never get here: next_code_point refuses them.
bool is_refused_in_name(std::int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

// NFC of valid UTF-8, so one name has one spelling (e + U+0301 is stored
// as U+00E9, and counts as one character).
std::string nfc(std::string_view valid_utf8) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid_utf8.data()),
                              static_cast<utf8proc_ssize_t>(valid_utf8.size()), &out,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0) throw validation_failed("name", "name must be valid UTF-8");
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

// Bounds the work before normalising: NFC at most composes a few code
// points into one, so a text this long cannot come down to 100 characters.
constexpr std::size_t max_name_input_bytes = 4096;

}  // namespace

std::string normalize_name(std::string_view raw) {
  const std::string_view trimmed = trim(raw);
  if (trimmed.empty()) throw validation_failed("name", "name is required");
  if (trimmed.size() > max_name_input_bytes) throw validation_failed("name", "name is at most 100 characters");
  for (std::size_t i = 0; i < trimmed.size();)
    if (!next_code_point(trimmed, i)) throw validation_failed("name", "name must be valid UTF-8");

  std::string name = nfc(trimmed);
  std::size_t chars = 0;
  for (std::size_t i = 0; i < name.size(); ++chars) {
    const auto cp = next_code_point(name, i);
    if (!cp) throw validation_failed("name", "name must be valid UTF-8");
    if (is_refused_in_name(static_cast<std::int32_t>(*cp)))
      throw validation_failed("name", "name must not contain control, format, private-use or unassigned characters");
  }
  if (chars > max_name_chars) throw validation_failed("name", "name is at most 100 characters");
  return name;
}

std::string normalize_email(std::string_view raw) {
  std::string email(trim(raw));
  if (email.empty()) throw validation_failed("email", "email is required");
  if (email.size() > max_email_bytes) throw validation_failed("email", "email is at most 254 bytes");
  // Decoded like the name, so invalid UTF-8 and C1 controls (U+0085...)
  // are refused too, not only ASCII ones.
  for (std::size_t i = 0; i < email.size();) {
    const auto cp = next_code_point(email, i);
    if (!cp) throw validation_failed("email", "email must be valid UTF-8");
    if (*cp == ' ' || is_control(*cp))
      throw validation_failed("email", "email must not contain spaces or control characters");
  }
  email = text::ascii_lower(email);
  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos || at == 0)
    throw validation_failed("email", "email must look like local@domain");
  const std::string_view domain = std::string_view(email).substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    throw validation_failed("email", "email domain must contain a dot");
  return email;
}

void check_password(std::string_view password, std::string_view field) {
  const std::string f(field);
  if (password.size() < min_password_bytes) throw validation_failed(f, f + " must be at least 8 bytes");
  if (password.size() > max_password_bytes) throw validation_failed(f, f + " must be at most 72 bytes");
  if (password.find('\0') != std::string_view::npos) throw validation_failed(f, f + " must not contain a NUL byte");
}

}  // namespace gatehouse::users
